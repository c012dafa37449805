import BenchSupport
import Foundation
import MarketData
import PosixIO
#if canImport(Glibc)
import Glibc
import SplitMix
#endif

/// 4. SIGTERM with thousands of clients at the default feed rate: close 1001
/// to (nearly) everyone within 1 s, exit 0 within the drain deadline + 0.5 s.
struct SigtermScenario {
    let ctx: FaultContext
    init(_ ctx: FaultContext) { self.ctx = ctx }

    func run() throws {
        let count = ctx.count(full: 10_000, short: 2_000)
        let drainMs = ctx.options.drainMs
        let runSeconds = ctx.seconds(full: 3, short: 2)
        try FileLimit.require(count + 50, for: "the SIGTERM clients")
        Say.line("")
        Say.timed("== sigterm: \(count) clients (2-4 symbols each), default feed, --drain-ms \(drainMs) ==")
        let server = try FaultServer(arguments: ["--drain-ms", "\(drainMs)"], logPath: ctx.serverLog("sigterm"))
        defer { server.stop() }
        var rng = SplitMix64(seed: 23)
        var targets: [String] = []
        for _ in 0..<count {
            let k = 2 + Int(rng.next() % 3)
            targets.append("/v1/stream?" + ctx.query(ctx.randomSymbols(&rng, count: k)))
        }
        let fleet = ProbeFleet(name: "fault-sigterm", symbolCount: ctx.universe.count)
        defer { fleet.closeAll() }
        let connectStart = Stopwatch()
        for wave in stride(from: 0, to: count, by: 1_000) {
            fleet.open(port: server.port, targets: Array(targets[wave..<min(count, wave + 1_000)]))
            _ = fleet.waitReady(min(count, wave + 1_000), timeout: 30)
        }
        let ready = fleet.readyCount.load(ordering: .relaxed)
        Say.timed("  \(ready) of \(count) clients ready in \(secs(connectStart.seconds)); server RSS \(mib(server.residentBytes))")
        usleep(UInt32(runSeconds * 1_000_000))

        let killedAt = Clock.monotonicNanos()
        server.signal(SIGTERM)
        let exitDeadline = Double(drainMs) / 1000 + 0.5
        let exitedAt = server.waitForExit(timeout: exitDeadline)
        var lateExit: UInt64?
        if exitedAt == nil { lateExit = server.waitForExit(timeout: 10) }
        let exitSeconds = (exitedAt ?? lateExit).map { Double($0 - killedAt) / 1e9 }
        // Close frames still in flight when the process exited are in the sockets already.
        _ = fleet.waitFinished(count, timeout: max(0, 1.5 - Double(Clock.monotonicNanos() - killedAt) / 1e9))
        let results = fleet.summaries()

        var outcomes: [String: Int] = [:]
        for r in results { outcomes[r.outcome, default: 0] += 1 }
        let closeTimes = results.filter { $0.closeCode == 1001 }.map { Double(Int64($0.closeAt) - Int64(killedAt)) / 1e6 }.sorted()
        let inTime = closeTimes.filter { $0 <= 1000 }.count
        Say.timed("  after SIGTERM: \(outcomes.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
        Say.timed(String(format: "  close 1001 received after the signal: p50 %@, p99 %@, max %@",
                         percentile(sorted: closeTimes, 0.5).map { String(format: "%.0f ms", $0) } ?? "n/a",
                         percentile(sorted: closeTimes, 0.99).map { String(format: "%.0f ms", $0) } ?? "n/a",
                         closeTimes.last.map { String(format: "%.0f ms", $0) } ?? "n/a"))
        Say.timed("  server: \(server.exitDescription)\(exitSeconds.map { " \(secs($0)) after SIGTERM" } ?? " (still running 10 s after the deadline: killed)")")
        if server.isRunning || !server.exitedCleanly { Say.line("  server log tail:\n\(server.logTail())") }

        let v = ctx.verdicts
        let needed = Int((Double(count) * 0.99).rounded(.up))
        v.check(inTime >= needed, ">= 99% of clients receive close 1001 within 1 s of SIGTERM",
                "\(inTime) of \(count) (\(String(format: "%.1f", Double(inTime) / Double(count) * 100))%; need \(needed))")
        v.check(exitedAt != nil && server.exitedCleanly, "server exits with status 0 within the drain deadline + 0.5 s (\(secs(exitDeadline)))",
                "\(server.exitDescription)\(exitSeconds.map { " after \(secs($0))" } ?? "")")
    }
}
