import BenchSupport
import Foundation
import PosixIO

/// 5. Capacity: `--max-connections 1000`, 1,200 upgrades. The extra ones
/// must get `503` with `Retry-After` (an answer, not a reset), and
/// `/healthz` must keep answering within 100 ms.
struct CapacityScenario {
    let ctx: FaultContext
    init(_ ctx: FaultContext) { self.ctx = ctx }

    func run() throws {
        let cap = 1_000
        let extra = 200
        Say.line("")
        Say.timed("== capacity: --max-connections \(cap); \(cap) upgrades, then \(extra) more; /healthz every 250 ms ==")
        let server = try FaultServer(arguments: ["--max-connections", "\(cap)"], logPath: ctx.serverLog("capacity"))
        defer { server.stop() }
        let watch = Stopwatch()
        let healthz = HealthzPoller(port: server.port, watch: watch)
        usleep(500_000)
        let fleet = ProbeFleet(name: "fault-capacity", symbolCount: ctx.universe.count)
        defer { fleet.closeAll() }
        for wave in stride(from: 0, to: cap, by: 250) {
            fleet.open(port: server.port, targets: Array(repeating: "/v1/stream", count: 250))
            _ = fleet.waitReady(wave + 250, timeout: 20)
        }
        let first = fleet.summaries()
        Say.timed("  first \(cap): \(first.filter { $0.response?.status == 101 }.count) upgraded at t=\(secs(watch.seconds))")
        let extraIDs = fleet.open(port: server.port, targets: Array(repeating: "/v1/stream", count: extra))
        _ = fleet.waitReady(cap + extra, timeout: 15)
        waitUntil(watch, watch.seconds + 2)
        let all = fleet.summaries()
        let samples = healthz.stop()

        func kind(_ s: ProbeSummary) -> String {
            if let r = s.response {
                if r.status == 101 { return "101" }
                return "\(r.status)" + (r.headers["retry-after"].map { " Retry-After: \($0)" } ?? " without Retry-After")
            }
            if let e = s.error { return e }
            return "no answer within 15 s"
        }
        var kinds: [String: Int] = [:]
        for s in all { kinds[kind(s), default: 0] += 1 }
        var extraKinds: [String: Int] = [:]
        for id in extraIDs { extraKinds[kind(all[id]), default: 0] += 1 }
        let describe = { (k: [String: Int]) in k.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") }
        Say.timed("  all \(cap + extra): \(describe(kinds))")
        Say.timed("  the last \(extra): \(describe(extraKinds))")

        let accepted = all.filter { $0.response?.status == 101 }.count
        let refusedWell = all.filter { $0.response?.status == 503 && $0.response?.headers["retry-after"] != nil }.count
        let v = ctx.verdicts
        // A /healthz probe in flight holds one of the 1,000 slots for a moment.
        v.check(accepted <= cap && accepted >= cap - 1, "\(cap - 1)-\(cap) upgrades accepted (one slot may be a /healthz probe's)",
                "\(accepted) accepted")
        v.check(refusedWell == cap + extra - accepted, "every attempt over the cap gets HTTP 503 with Retry-After (not a reset)",
                "\(refusedWell) of \(cap + extra - accepted); last \(extra): \(describe(extraKinds))")
        HealthzPoller.report(samples, into: v)
    }
}
