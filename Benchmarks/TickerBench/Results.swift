import BenchSupport
import Foundation

/// Every figure of one run, as printed and as written to JSON.
struct RunResult: Codable {
    var preset: String
    var mode: String
    var clients: Int
    var symbols: Int
    var symbolsPerClient: Int
    var seconds: Double
    var frames: Int
    var records: Int
    var bytes: Int
    var framesPerSecond: Double
    var ticksPerSecond: Double
    var megabytesPerSecond: Double
    var latencyP50Ms: Double?
    var latencyP99Ms: Double?
    var latencyP999Ms: Double?
    var latencyMaxMs: Double?
    /// Open loop: a record's time in the server before it was queued to its
    /// connection (the message's send time minus event time), p50 and p99;
    /// the rest of the latency is the write, the kernel and the reader.
    var queuedP50Ms: Double?
    var queuedP99Ms: Double?
    /// Open loop: a record's arrival in the client's socket (kernel receive
    /// stamp) minus its event time: the latency without the generator's delay
    /// in reading; latency at the read minus this is the generator's.
    var arrivedP50Ms: Double?
    var arrivedP99Ms: Double?
    var serverCPUPercent: Double
    var generatorCPUPercent: Double
    var serverRSSMB: Double
    var bytesPerIdleConnection: Double?
    var expectedRecords: Int?
    var lossCheck: String
    var lossClean: Bool
    var warning: String?
    /// /proc/loadavg (1, 5, 15 min) when the run ended: the machine is shared.
    var loadAverage: String?
    /// Server CPU time (user + system) per delivered record, in ns. On a
    /// shared machine this moves far less than throughput does: a server
    /// that gets half a core delivers half as much, at the same cost each.
    var serverCPUNanosPerTick: Double?
    /// Open loop: the server's socket sends (sendmsg or io_uring) per second.
    var sendsPerSecond: Double?
    /// Whether the server ran on CPU 0 and the generator on CPU 1.
    var pinned: Bool?
    /// Open loop, after the drain: copies the published ticks owed (one per
    /// subscriber of the symbol), and those accounted for (records received
    /// plus the conflated counts they declare), of which conflated.
    var copiesOwed: Int?
    var copiesAccounted: Int?
    var conflatedCopies: Int?
    /// Batches the open-loop publisher skipped because it ran late (its core was taken).
    var publisherSkippedBatches: Int?
    /// `wire`: bytes of WebSocket frames read per delivered record.
    var bytesPerTick: Double?
    /// `wire`, delta: the share of records that came as keyframes.
    var keyframeShare: Double?
}

extension RunResult {
    /// The split of a record's latency the fleet measured: until queued and
    /// until its arrival in the client's socket, p50 and p99.
    mutating func takeTimeSplit(_ result: FleetResult) {
        queuedP50Ms = result.queued.percentileMicros(0.5).map { $0 / 1000 }
        queuedP99Ms = result.queued.percentileMicros(0.99).map { $0 / 1000 }
        arrivedP50Ms = result.arrived.percentileMicros(0.5).map { $0 / 1000 }
        arrivedP99Ms = result.arrived.percentileMicros(0.99).map { $0 / 1000 }
    }
}

enum Report {
    static func printTable(_ results: [RunResult]) {
        func ms(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
        let header = ["preset", "mode", "clients", "frames/s", "sends/s", "ticks/s", "MB/s", "p50 ms", "p99 ms", "p999 ms", "max ms",
                      "queued p99", "arrived p99", "srv CPU%", "srv ns/tick", "gen CPU%", "srv RSS MB", "B/idle conn", "loss check"]
        var rows = [header]
        for r in results {
            rows.append([r.preset, r.mode, "\(r.clients)", SVGChart.short(r.framesPerSecond),
                         r.sendsPerSecond.map(SVGChart.short) ?? "-", SVGChart.short(r.ticksPerSecond),
                         String(format: "%.1f", r.megabytesPerSecond), ms(r.latencyP50Ms), ms(r.latencyP99Ms), ms(r.latencyP999Ms),
                         ms(r.latencyMaxMs), ms(r.queuedP99Ms), ms(r.arrivedP99Ms), String(format: "%.0f", r.serverCPUPercent),
                         r.serverCPUNanosPerTick.map { String(format: "%.0f", $0) } ?? "-",
                         String(format: "%.0f", r.generatorCPUPercent),
                         String(format: "%.1f", r.serverRSSMB), r.bytesPerIdleConnection.map { String(format: "%.0f", $0) } ?? "-",
                         r.lossCheck])
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max()! }
        for (n, row) in rows.enumerated() {
            print(row.enumerated().map { i, cell in i < 2 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[i] - cell.count) + cell }.joined(separator: "  "))
            if n == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        for r in results { if let w = r.warning { print("WARNING [\(r.preset)/\(r.mode)/\(r.clients)]: \(w)") } }
    }

    static func write(_ results: [RunResult], preset: String, directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = "\(directory)/\(preset).json"
        try encoder.encode(results).write(to: URL(fileURLWithPath: path))
        return path
    }
}
