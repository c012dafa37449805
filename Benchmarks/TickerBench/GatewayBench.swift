import BenchSupport
import Foundation
import GatewayHarness
import PosixIO

/// `TickerBench gateways` (issue 12, acceptance 3): the scale-out path end to
/// end on one machine. A throwaway redis-server (`Scripts/redis.sh`), one feed
/// node (`ticker feed --redis`, the simulated feed at its default rate), N
/// gateways (`ticker serve --redis`), and the clients split over client
/// processes (`gateway-clients`, at most ~15,000 connections each: a process
/// may hold 20,000 open files here). Reports aggregate delivered ticks/s,
/// p50/p99 latency from each tick's event time (feed node → Redis → gateway →
/// client), the sequence check, and per-gateway CPU and RSS; JSON goes to
/// `--out` (default `.build/bench`).
///
/// Nothing is pinned: five or more processes share the cores.
enum GatewayBench {
    struct Summary: Codable {
        var gateways: Int
        var clientsPerGateway: Int
        var clientProcesses: Int
        var symbolsPerClient: Int
        var seconds: Double
        var records: Int
        var frames: Int
        var ticksPerSecond: Double
        var framesPerSecond: Double
        var latencyP50Ms: Double?
        var latencyP99Ms: Double?
        var latencyP999Ms: Double?
        var latencyMaxMs: Double?
        /// Share of latency samples at or over 1 s (past the histogram's
        /// range: a percentile that lands there is shown as "≥ 1000 ms").
        var latencyShareOver1s: Double
        var latencyOverflowFromP50: Bool
        var latencyOverflowFromP99: Bool
        var gapsUndeclared: Int
        var duplicates: Int
        var reordered: Int
        var conflatedUpdates: UInt64
        var closedClients: Int
        var gatewayCPUPercent: [Double]
        var gatewayRSSMB: [Double]
        var feedCPUPercent: Double
        var feedRSSMB: Double
        var redisCPUPercent: Double
        var redisRSSMB: Double
        var clientCPUPercent: [Double]
        var loadAverageStart: String
        var loadAverageEnd: String
    }

    static let usage = """
    USAGE: TickerBench gateways [--clients-per-gateway N] [--gateways G] [--client-procs K]
                                [--per-client M] [--seconds S] [--warmup S] [--out DIR] [--server PATH]

      --clients-per-gateway N  connections per gateway (default 15000)
      --gateways G             gateway processes (default 3)
      --client-procs K         client processes (default: one per 15,000 clients)
      --per-client M           symbols each client subscribes to, of 520 (default 10)
      --seconds S              measured window (default 20); --warmup S before it (default 3)
      --out DIR                JSON goes to DIR/gateways.json (default .build/bench)
    """

    static func main(arguments: [String]) -> Never {
        var args = arguments
        func option(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
            defer { args.removeSubrange(i...(i + 1)) }
            return args[i + 1]
        }
        if args.contains("--help") { print(usage); exit(0) }
        let perGateway = option("--clients-per-gateway").flatMap(Int.init) ?? 15_000
        let gatewayCount = max(1, option("--gateways").flatMap(Int.init) ?? 3)
        let total = perGateway * gatewayCount
        let processes = max(1, option("--client-procs").flatMap(Int.init) ?? (total + 14_999) / 15_000)
        let perClient = option("--per-client").flatMap(Int.init) ?? 10
        let seconds = option("--seconds").flatMap(Double.init) ?? 20
        let warmup = option("--warmup").flatMap(Double.init) ?? 3
        let out = option("--out") ?? ".build/bench"
        let binary = option("--server").map { URL(fileURLWithPath: $0) }
        guard args.isEmpty, perGateway > 0 else {
            FileHandle.standardError.write(Data("TickerBench gateways: bad arguments \(args)\n\(usage)\n".utf8))
            exit(2)
        }
        do {
            let summary = try run(perGateway: perGateway, gateways: gatewayCount, processes: processes, perClient: perClient,
                                  seconds: seconds, warmup: warmup, binary: binary)
            print(table(summary))
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(summary).write(to: URL(fileURLWithPath: "\(out)/gateways.json"))
            print("json: \(out)/gateways.json")
            exit(summary.gapsUndeclared == 0 && summary.closedClients == 0 && summary.records > 0 ? 0 : 1)
        } catch {
            FileHandle.standardError.write(Data("TickerBench gateways: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(perGateway: Int, gateways gatewayCount: Int, processes: Int, perClient: Int,
                    seconds: Double, warmup: Double, binary: URL?) throws -> Summary {
        let loadStart = LoadAverage.now
        print("load average at start: \(loadStart)")
        // The tests' gateway harness, on the whole default universe: the feed
        // with one loop, each gateway with the default loop count.
        let cluster = try GatewayCluster(
            gateways: gatewayCount, symbols: nil, loops: nil, feed: ["--loops", "1", "--max-connections", "100"],
            gateway: ["--max-per-address", "0", "--heartbeat-ms", "600000", "--max-connections", "19000"],
            redis: RedisServer(requireGate: false)
        ) { command, arguments in
            try BenchServer(arguments: arguments, binary: binary, command: command, pinned: false)
        }
        defer { cluster.stop() }
        let (redis, feed, gateways) = (cluster.redis, cluster.feed, cluster.gateways)
        let total = perGateway * gatewayCount
        print("redis :\(redis.port) (pid \(redis.pid)), feed :\(feed.port), gateways \(gateways.map { ":\($0.port)" }.joined(separator: " ")); \(total) clients over \(processes) client process(es)")

        let ports = gateways.map { String($0.port) }.joined(separator: ",")
        let share = (total + processes - 1) / processes
        var children: [ClientChild] = []
        defer { for c in children { c.stop() } }
        for k in 0..<processes {
            let first = k * share
            let count = min(share, total - first)
            guard count > 0 else { continue }
            children.append(try ClientChild(arguments: [
                "gateway-clients", "--ports", ports, "--first", "\(first)", "--count", "\(count)", "--total", "\(total)",
                "--per-client", "\(perClient)", "--seconds", "\(seconds)",
            ]))
        }
        for child in children {
            let line = child.readLine(timeoutSeconds: 60 + Double(share) / 200)
            guard let line, line.hasPrefix("ready") else { throw BenchError("a client process did not connect: \(line ?? "no answer")") }
            print("client process \(child.pid): \(line)")
        }
        usleep(UInt32(warmup * 1_000_000))

        let gatewayCPU0 = gateways.map(\.cpuTicks), feedCPU0 = feed.cpuTicks, redisCPU0 = ProcFile.cpuTicks(pid: redis.pid)
        let t0 = Clock.monotonicNanos()
        for child in children { child.go() }
        usleep(UInt32(seconds * 1_000_000))
        let elapsed = Double(Clock.monotonicNanos() - t0) / 1e9
        func percent(_ ticks: UInt64) -> Double { Double(ticks) / ProcFile.ticksPerSecond / elapsed * 100 }
        let gatewayCPU = zip(gateways, gatewayCPU0).map { percent($0.cpuTicks &- $1) }
        let feedCPU = percent(feed.cpuTicks &- feedCPU0)
        let redisCPU = percent(ProcFile.cpuTicks(pid: redis.pid) &- redisCPU0)
        let gatewayRSS = gateways.map { Double($0.residentBytes) / 1_048_576 }

        var reports: [GatewayClientReport] = []
        for child in children {
            guard let line = child.readLine(timeoutSeconds: 60), let report = try? JSONDecoder().decode(GatewayClientReport.self, from: Data(line.utf8)) else {
                throw BenchError("a client process sent no report")
            }
            reports.append(report)
        }
        var histogram = LatencyHistogram()
        for r in reports { histogram.merge(LatencyHistogram(sparse: r.histogram)) }
        let window = reports.map(\.seconds).max() ?? elapsed
        let records = reports.reduce(0) { $0 + $1.records }
        let frames = reports.reduce(0) { $0 + $1.frames }
        return Summary(
            gateways: gatewayCount, clientsPerGateway: perGateway, clientProcesses: children.count, symbolsPerClient: perClient,
            seconds: window, records: records, frames: frames,
            ticksPerSecond: Double(records) / window, framesPerSecond: Double(frames) / window,
            latencyP50Ms: histogram.percentileMicros(0.5).map { $0 / 1000 }, latencyP99Ms: histogram.percentileMicros(0.99).map { $0 / 1000 },
            latencyP999Ms: histogram.percentileMicros(0.999).map { $0 / 1000 }, latencyMaxMs: histogram.count > 0 ? histogram.maxMicros / 1000 : nil,
            latencyShareOver1s: histogram.count > 0 ? Double(histogram.overflow) / Double(histogram.count) : 0,
            latencyOverflowFromP50: histogram.count > 0 && Double(histogram.count - histogram.overflow) < 0.5 * Double(histogram.count),
            latencyOverflowFromP99: histogram.count > 0 && Double(histogram.count - histogram.overflow) < 0.99 * Double(histogram.count),
            gapsUndeclared: reports.reduce(0) { $0 + $1.gaps }, duplicates: reports.reduce(0) { $0 + $1.duplicates },
            reordered: reports.reduce(0) { $0 + $1.reordered }, conflatedUpdates: reports.reduce(0) { $0 + $1.conflated },
            closedClients: reports.reduce(0) { $0 + $1.closed },
            gatewayCPUPercent: gatewayCPU, gatewayRSSMB: gatewayRSS,
            feedCPUPercent: feedCPU, feedRSSMB: Double(feed.residentBytes) / 1_048_576,
            redisCPUPercent: redisCPU, redisRSSMB: Double(ProcFile.residentBytes(pid: redis.pid)) / 1_048_576,
            clientCPUPercent: reports.map { $0.cpuSeconds / $0.seconds * 100 },
            loadAverageStart: loadStart, loadAverageEnd: LoadAverage.now)
    }

    static func table(_ s: Summary) -> String {
        func ms(_ v: Double?) -> String { v.map { String(format: "%.2f ms", $0) } ?? "-" }
        func pct(_ v: [Double]) -> String { v.map { String(format: "%.0f%%", $0) }.joined(separator: " / ") }
        let rss = s.gatewayRSSMB.map { String(format: "%.0f MB", $0) }.joined(separator: " / ")
        return """
        gateways: \(s.gateways) x \(s.clientsPerGateway) clients (\(s.symbolsPerClient) of 520 symbols each), \(s.clientProcesses) client process(es), \(String(format: "%.1f", s.seconds)) s
          delivered      \(SVGChart.short(s.ticksPerSecond)) ticks/s (\(SVGChart.short(s.framesPerSecond)) messages/s, \(s.records) records)
          latency        p50 \(s.latencyOverflowFromP50 ? "≥ 1000 ms" : ms(s.latencyP50Ms)), p99 \(s.latencyOverflowFromP99 ? "≥ 1000 ms" : ms(s.latencyP99Ms)), max \(ms(s.latencyMaxMs)); \(String(format: "%.1f%%", s.latencyShareOver1s * 100)) of samples ≥ 1 s (from each tick's event time at the feed node)
          sequence check \(s.gapsUndeclared) undeclared gaps, \(s.duplicates) duplicates, \(s.reordered) reordered, \(s.conflatedUpdates) updates declared conflated; \(s.closedClients) clients closed
          gateway CPU    \(pct(s.gatewayCPUPercent)) of one core; RSS \(rss)
          feed node      CPU \(String(format: "%.0f%%", s.feedCPUPercent)), RSS \(String(format: "%.0f MB", s.feedRSSMB)); redis CPU \(String(format: "%.0f%%", s.redisCPUPercent)), RSS \(String(format: "%.0f MB", s.redisRSSMB))
          client procs   CPU \(pct(s.clientCPUPercent))
          load average   \(s.loadAverageStart) at start, \(s.loadAverageEnd) at end
        """
    }
}

/// One `gateway-clients` process: this executable again, lines on its pipes.
final class ClientChild {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer: [UInt8] = []

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func go() { input.fileHandleForWriting.write(Data("go\n".utf8)) }

    /// The next line, or nil at EOF or after the timeout.
    func readLine(timeoutSeconds: Double) -> String? {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                defer { buffer.removeSubrange(0...nl) }
                return String(decoding: buffer[..<nl], as: UTF8.self)
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            guard let readable = try? Syscall.poll(fd, for: .read, timeoutMs: Int32(min(left, 1) * 1000) + 1) else { return nil }
            guard readable else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let result = try? chunk.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
            switch result {
            case .processed(let n)? where n > 0: buffer += chunk[0..<n]
            case .wouldBlock?: continue
            default: return nil   // EOF or an error
            }
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
    }
}

extension BenchServer: GatewayNode {}
