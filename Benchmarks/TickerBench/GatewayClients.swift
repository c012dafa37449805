import BenchSupport
import Foundation
import PosixIO

/// What one client process of `TickerBench gateways` measured, sent to the
/// driver as one JSON line on its standard output.
struct GatewayClientReport: Codable {
    var clients: Int
    var ready: Int
    var closed: Int
    var seconds: Double
    var frames: Int
    var records: Int
    var bytes: Int
    var histogram: SparseHistogram
    var gaps: Int
    var missing: UInt64
    var duplicates: Int
    var reordered: Int
    var conflated: UInt64
    var cpuSeconds: Double
    var error: String?
}

/// `TickerBench gateway-clients` (started by `gateways`, not by hand): one
/// process of the client side, holding at most ~15,000 connections so it
/// stays under the 20,000 open files a process may have here. Client `i` of
/// the global numbering connects to gateway `i % gateways` and subscribes to
/// its `perClient` symbols of the shared seeded assignment, so the split over
/// processes changes nothing about who gets what.
///
/// Protocol with the driver: `ready N` (or `error TEXT`) once connected; then
/// it waits for a line on standard input, resets its counters, measures for
/// `--seconds` and prints one JSON `GatewayClientReport`.
enum GatewayClientProcess {
    static func main(arguments: [String]) -> Never {
        var args = arguments
        func option(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
            defer { args.removeSubrange(i...(i + 1)) }
            return args[i + 1]
        }
        let ports = (option("--ports") ?? "").split(separator: ",").compactMap { UInt16($0) }
        let first = option("--first").flatMap(Int.init) ?? 0
        let count = option("--count").flatMap(Int.init) ?? 0
        let total = option("--total").flatMap(Int.init) ?? count
        let perClient = option("--per-client").flatMap(Int.init) ?? 10
        let seconds = option("--seconds").flatMap(Double.init) ?? 20
        // Unbuffered lines: the driver waits on each.
        func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        guard !ports.isEmpty, count > 0, first >= 0, first + count <= total else {
            say("error bad arguments \(arguments)")
            exit(2)
        }
        _ = FileLimit.raiseToHard()
        do {
            let runner = try Runner()
            let symbols = runner.universe.count
            let queries = runner.queries(runner.assignments(clients: total, symbols: symbols, perClient: perClient))
            let fleet = Fleet(symbolCount: symbols)
            for (g, port) in ports.enumerated() {
                let mine = (first..<(first + count)).filter { $0 % ports.count == g }.map { queries[$0] }
                guard !mine.isEmpty else { continue }
                try runner.connect(fleet, port: port, queries: mine)
            }
            say("ready \(fleet.counters.ready.load(ordering: .relaxed))")
            guard readLine() != nil else { exit(1) }
            fleet.resetMeasurements()
            let cpu0 = ProcFile.cpuTicks(pid: nil)
            let t0 = Clock.monotonicNanos()
            usleep(UInt32(seconds * 1_000_000))
            let elapsed = Double(Clock.monotonicNanos() - t0) / 1e9
            let cpu = Double(ProcFile.cpuTicks(pid: nil) - cpu0) / ProcFile.ticksPerSecond
            let result = fleet.result()
            let report = GatewayClientReport(
                clients: count, ready: fleet.counters.ready.load(ordering: .relaxed),
                closed: fleet.counters.closed.load(ordering: .relaxed), seconds: elapsed,
                frames: fleet.counters.frames.load(ordering: .relaxed), records: fleet.counters.records.load(ordering: .relaxed),
                bytes: fleet.counters.bytes.load(ordering: .relaxed), histogram: result.histogram.sparse,
                gaps: result.ledger.gaps, missing: result.ledger.missing, duplicates: result.ledger.duplicates,
                reordered: result.ledger.reordered, conflated: result.ledger.conflated, cpuSeconds: cpu)
            fleet.closeAll()
            say(String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
            exit(0)
        } catch {
            say("error \(error)")
            exit(1)
        }
    }
}
