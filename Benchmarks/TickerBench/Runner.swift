import BenchSupport
import Dispatch
import Foundation
import MarketData
import PosixIO
import SplitMix
import TickerServer

/// How a scenario's server is started: nil fields are left to the server's
/// own defaults (loops = cores, batch delivery), which is what a user gets.
struct ServerSetup: Sendable {
    var loops: Int?
    var delivery: String?
    /// Another `ticker` binary (before/after comparisons in one run).
    var binary: URL?
    var binaryLabel: String?
    /// More `ticker serve` options ("+--io-uring=on" in `--configs`); not
    /// given to a `--baseline` binary, which may not know them.
    var extra: [String] = []

    var arguments: [String] {
        (loops.map { ["--loops", "\($0)"] } ?? []) + (delivery.map { ["--delivery", $0] } ?? []) + extra
    }

    /// The table's "mode" column: "defaults", "1L message", ... plus the binary's label.
    var label: String {
        var parts: [String] = []
        if let loops { parts.append("\(loops)L") }
        if let delivery { parts.append(delivery) }
        var text = parts.isEmpty ? "defaults" : parts.joined(separator: " ")
        if !extra.isEmpty { text += " " + extra.joined(separator: " ") }
        if let binaryLabel { text += " [\(binaryLabel)]" }
        return text
    }

    /// "defaults", or "LOOPS/DELIVERY" with either side optional ("1/message", "2/", "/batch"),
    /// then any server options, each after a "+" ("defaults+--io-uring=on").
    static func parse(_ item: String) -> ServerSetup? {
        let words = item.split(separator: "+").map(String.init)
        guard let text = words.first, var setup = parse(setup: text) else { return nil }
        setup.extra = Array(words.dropFirst())
        return setup
    }

    private static func parse(setup text: String) -> ServerSetup? {
        if text == "defaults" || text == "default" { return ServerSetup() }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        var setup = ServerSetup()
        if !parts[0].isEmpty {
            guard let loops = Int(parts[0]), loops > 0 else { return nil }
            setup.loops = loops
        }
        if !parts[1].isEmpty {
            guard ["message", "batch"].contains(String(parts[1])) else { return nil }
            setup.delivery = String(parts[1])
        }
        return setup
    }
}

/// Runs one measurement: server process, client fleet, load, figures.
struct Runner {
    var serverLoops = 1
    /// `--server PATH`: the `ticker` the large-round presets start (default: the one beside us).
    var serverBinary: URL?
    var seconds = 5.0
    var outputDirectory = "reports/bench"
    /// Server on CPU 0 and generator on CPU 1 (`--pin`), or both left to the
    /// scheduler (`--no-pin`, the open-loop presets' default).
    var pinned = true
    let universe: SymbolTable

    init() throws {
        universe = try SymbolUniverse.load(path: nil)
    }

    /// Deterministic "K of S" assignment: client c gets K distinct symbols
    /// spread over 0..<S by a seeded shuffle.
    func assignments(clients: Int, symbols: Int, perClient: Int) -> [[Int]] {
        var rng = SplitMix64(seed: 7)
        return (0..<clients).map { _ in
            var chosen = Set<Int>()
            while chosen.count < min(perClient, symbols) { chosen.insert(Int(rng.next() % UInt64(symbols))) }
            return chosen.sorted()
        }
    }

    func queries(_ assigned: [[Int]]) -> [String] {
        assigned.map { ids in "symbols=" + ids.map { universe[UInt32($0)].symbol }.joined(separator: ",") }
    }

    /// Opens connections in waves so the accept backlog never overflows, and
    /// waits until each has its welcome (and subscription acknowledgement).
    /// Counts are relative to what the fleet already held, so one fleet may
    /// connect to several servers in turn.
    func connect(_ fleet: Fleet, port: UInt16, queries: [String]) throws {
        let readyBefore = fleet.counters.ready.load(ordering: .relaxed)
        let base = readyBefore + fleet.counters.closed.load(ordering: .relaxed)
        var opened = 0
        for wave in stride(from: 0, to: queries.count, by: 1_000) {
            let slice = Array(queries[wave..<min(queries.count, wave + 1_000)])
            fleet.open(port: port, path: "/v1/stream", queries: slice)
            opened += slice.count
            let deadline = Date().addingTimeInterval(30)
            while fleet.counters.ready.load(ordering: .relaxed) + fleet.counters.closed.load(ordering: .relaxed) - base < opened {
                if Date() > deadline { throw BenchError("only \(fleet.counters.ready.load(ordering: .relaxed) - readyBefore)/\(opened) clients ready after 30 s") }
                usleep(2_000)
            }
        }
        let ready = fleet.counters.ready.load(ordering: .relaxed) - readyBefore
        guard ready == queries.count else { throw BenchError("\(queries.count - ready) connections failed to open") }
    }

    /// Closed loop: publish a batch, wait until every subscriber has every
    /// record, repeat for `seconds`. Maximum throughput.
    ///
    /// `eachTick`: the round's ticks go out as `roundTicks` one-record
    /// messages in one write (the scenarios) instead of one message.
    /// `setup`: the server's loops, delivery and binary (nil: `serverLoops`
    /// and `mode`, as the large-round presets always ran).
    func closedLoop(preset: String, mode: String, clients: Int, symbols: Int, perClient: Int, roundTicks: Int,
                    eachTick: Bool = false, setup: ServerSetup? = nil) throws -> RunResult {
        let token = "bench-\(UInt64.random(in: 1...UInt64.max))"
        let serverArguments = setup?.arguments ?? ["--loops", "\(serverLoops)", "--delivery", mode]
        let server = try BenchServer(arguments: serverArguments + [
            "--no-feed", "--publish-token", token,
            "--heartbeat-ms", "600000", "--max-connections", "19000", "--rate-limit", "100000",
        ], binary: setup?.binary ?? serverBinary, pinned: pinned)
        defer { server.stop() }
        let fleet = Fleet(symbolCount: symbols)
        defer { fleet.closeAll() }
        let assigned = assignments(clients: clients, symbols: symbols, perClient: perClient)
        var subscribers = Array(repeating: 0, count: symbols)
        for ids in assigned { for id in ids { subscribers[id] += 1 } }
        try connect(fleet, port: server.port, queries: queries(assigned))
        let publisher = try Publisher(port: server.port, token: token, symbols: universe, symbolCount: symbols)
        defer { publisher.close() }

        var offset = 0
        var expected = 0
        func round() throws {
            // Expected deliveries of the next message, known before it is sent.
            var next = 0
            for i in 0..<roundTicks { next += subscribers[(offset + i) % symbols] }
            expected += next
            fleet.counters.target.store(expected, ordering: .relaxed)
            if eachTick {
                try publisher.publishEach(count: roundTicks, symbols: 0..<symbols, startAt: &offset)
            } else {
                _ = try publisher.publish(count: roundTicks, symbols: 0..<symbols, startAt: &offset)
            }
            if fleet.counters.records.load(ordering: .relaxed) < expected {
                guard fleet.counters.reached.wait(timeout: .now() + 10) == .success else {
                    // Say what arrived instead: conflated records (a generator
                    // too slow to read, on a loaded machine) explain a shortfall.
                    let ledger = fleet.result().ledger
                    throw BenchError("round stalled: \(fleet.counters.records.load(ordering: .relaxed)) of \(expected) records after 10 s (conflated \(ledger.conflated), gaps \(ledger.gaps), dup \(ledger.duplicates), reordered \(ledger.reordered), server \(server.process.arguments?.joined(separator: " ") ?? ""))")
                }
            } else {
                _ = fleet.counters.reached.wait(timeout: .now() + 0.5)
            }
        }
        for _ in 0..<3 { try round() }   // warm-up
        fleet.resetMeasurements()
        expected = 0
        let (elapsed, serverCPU, selfCPU) = try window(server) {
            let t0 = Clock.monotonicNanos()
            repeat { try round() } while Double(Clock.monotonicNanos() - t0) / 1e9 < seconds
        }
        let result = fleet.result()
        let records = fleet.counters.records.load(ordering: .relaxed)
        var run = summarize(preset: preset, mode: (setup?.label ?? mode) + (pinned ? " pinned" : " unpinned"), clients: clients, symbols: symbols,
                            perClient: perClient, elapsed: elapsed, fleet: fleet, result: result, serverCPU: serverCPU,
                            selfCPU: selfCPU, serverRSS: server.residentBytes)
        run.expectedRecords = expected
        run.pinned = pinned
        let exact = records == expected
        run.lossClean = exact && result.ledger.isClean
        run.lossCheck = run.lossClean ? "ok: \(records) of \(expected)" :
            "FAILED: \(records) of \(expected), gaps \(result.ledger.gaps), dup \(result.ledger.duplicates), reordered \(result.ledger.reordered)"
        return run
    }

    /// Open loop: the server's own simulated feed at its default rate.
    func steady(clients: Int, perClient: Int) throws -> RunResult {
        let server = try BenchServer(arguments: [
            "--loops", "\(serverLoops)", "--heartbeat-ms", "600000", "--max-connections", "19000",
        ], binary: serverBinary)
        defer { server.stop() }
        let symbols = universe.count
        let fleet = Fleet(symbolCount: symbols)
        defer { fleet.closeAll() }
        try connect(fleet, port: server.port, queries: queries(assignments(clients: clients, symbols: symbols, perClient: perClient)))
        usleep(500_000)
        fleet.resetMeasurements()
        let (elapsed, serverCPU, selfCPU) = window(server) { usleep(UInt32(seconds * 1_000_000)) }
        let result = fleet.result()
        var run = summarize(preset: "steady", mode: "batch", clients: clients, symbols: symbols, perClient: perClient,
                            elapsed: elapsed, fleet: fleet, result: result, serverCPU: serverCPU, selfCPU: selfCPU,
                            serverRSS: server.residentBytes)
        run.lossClean = result.ledger.isClean && result.ledger.records > 0
        run.lossCheck = run.lossClean
            ? "ok: \(result.ledger.records) records, seq contiguous, \(result.ledger.conflated) conflated"
            : "FAILED: gaps \(result.ledger.gaps) (\(result.ledger.missing) missing), dup \(result.ledger.duplicates), reordered \(result.ledger.reordered)"
        return run
    }

    /// Idle connections: server RSS per connection.
    func idle(clients: Int, preset: String = "idle", setup: ServerSetup? = nil) throws -> RunResult {
        let server = try BenchServer(arguments: (setup?.arguments ?? ["--loops", "\(serverLoops)"]) + [
            "--no-feed", "--heartbeat-ms", "600000", "--max-connections", "19000",
        ], binary: setup?.binary ?? serverBinary, pinned: pinned)
        defer { server.stop() }
        usleep(300_000)
        let before = server.residentBytes
        let fleet = Fleet(symbolCount: 1)
        defer { fleet.closeAll() }
        try connect(fleet, port: server.port, queries: Array(repeating: "", count: clients))
        usleep(1_000_000)   // one sweep releases the welcome's buffer
        let after = server.residentBytes
        let perConnection = Double(after - before) / Double(clients)
        return RunResult(
            preset: preset, mode: setup?.label ?? "-", clients: clients, symbols: 0, symbolsPerClient: 0, seconds: 0, frames: 0, records: 0,
            bytes: 0, framesPerSecond: 0, ticksPerSecond: 0, megabytesPerSecond: 0, serverCPUPercent: 0,
            generatorCPUPercent: 0, serverRSSMB: Double(after) / 1_048_576, bytesPerIdleConnection: perConnection,
            lossCheck: "\(clients) open (RSS \(before / 1024) KiB -> \(after / 1024) KiB)", lossClean: true)
    }

    /// Runs `body` (the measured window) and returns its wall time in
    /// seconds and the CPU the server and this generator used meanwhile, in
    /// percent of one core (`/proc/PID/stat`).
    func window(_ server: BenchServer, _ body: () throws -> Void) rethrows
        -> (elapsed: Double, serverCPU: Double, selfCPU: Double) {
        let serverCPU0 = server.cpuTicks, selfCPU0 = ProcFile.cpuTicks(pid: nil)
        let t0 = Clock.monotonicNanos()
        try body()
        let elapsed = Double(Clock.monotonicNanos() - t0) / 1e9
        return (elapsed,
                Double(server.cpuTicks - serverCPU0) / ProcFile.ticksPerSecond / elapsed * 100,
                Double(ProcFile.cpuTicks(pid: nil) - selfCPU0) / ProcFile.ticksPerSecond / elapsed * 100)
    }

    func summarize(preset: String, mode: String, clients: Int, symbols: Int, perClient: Int, elapsed: Double,
                   fleet: Fleet, result: FleetResult, serverCPU: Double, selfCPU: Double, serverRSS: Int) -> RunResult {
        let frames = fleet.counters.frames.load(ordering: .relaxed)
        let records = fleet.counters.records.load(ordering: .relaxed)
        let bytes = fleet.counters.bytes.load(ordering: .relaxed)
        let h = result.histogram
        var warning: String?
        if selfCPU > serverCPU {
            warning = String(format: "the load generator (%.0f%% CPU) was busier than the server (%.0f%%): the figure may understate the server", selfCPU, serverCPU)
        }
        return RunResult(
            preset: preset, mode: mode, clients: clients, symbols: symbols, symbolsPerClient: perClient, seconds: elapsed,
            frames: frames, records: records, bytes: bytes,
            framesPerSecond: rate(Double(frames), seconds: elapsed), ticksPerSecond: rate(Double(records), seconds: elapsed),
            megabytesPerSecond: rate(Double(bytes), seconds: elapsed) / 1e6,
            latencyP50Ms: h.percentileMicros(0.5).map { $0 / 1000 }, latencyP99Ms: h.percentileMicros(0.99).map { $0 / 1000 },
            latencyP999Ms: h.percentileMicros(0.999).map { $0 / 1000 }, latencyMaxMs: h.count > 0 ? h.maxMicros / 1000 : nil,
            serverCPUPercent: serverCPU, generatorCPUPercent: selfCPU, serverRSSMB: Double(serverRSS) / 1_048_576,
            lossCheck: "", lossClean: false, warning: warning,
            serverCPUNanosPerTick: records > 0 ? serverCPU / 100 * elapsed * 1e9 / Double(records) : nil)
    }
}
