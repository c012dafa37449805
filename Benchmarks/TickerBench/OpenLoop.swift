import BenchSupport
import Foundation
import MarketData
import PosixIO
import Synchronization

/// The open-loop market presets (issue 24): a publisher sends a batch of
/// ticks every millisecond through `/v1/publish` at the default feed's rate
/// (520 symbols, 100 ticks a second each), whatever the clients read; latency
/// is receipt time minus each record's event time, and after a drain every
/// copy owed is accounted for (records plus declared conflated counts).
///
/// Unlike the closed-loop scenarios, nothing waits for the slowest reader:
/// a server that cannot keep up shows it as latency or conflation.
struct MarketPreset: Sendable {
    var clients: Int
    var perClient: Int
    static let symbols = 520
    /// Ticks per batch and batches per second: 52 x 1,000 = the default
    /// feed's 52,000 ticks/s (520 symbols every 10 ms on average).
    static let batchTicks = 52
    static let batchInterval = Nanoseconds.milliseconds(1)

    static func of(_ scenario: Scenario) -> MarketPreset? {
        switch scenario {
        case .m1: MarketPreset(clients: 1_000, perClient: 10)
        case .m2: MarketPreset(clients: 5_000, perClient: 2)
        case .m3: MarketPreset(clients: 1_000, perClient: 52)
        default: nil
        }
    }
}

/// Publishes on a thread of its own on a fixed schedule: batch k goes out at
/// start + k ms, cycling over the symbols, each tick stamped with the wall
/// clock when its batch is built. A publisher that finds itself more than
/// `maxBehind` batches late (its core was taken) skips ahead and counts the
/// skipped batches rather than sending a burst.
final class OpenLoopPublisher: @unchecked Sendable {
    private let publisher: Publisher
    private let stopFlag = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// Written by the publishing thread only; read after `stop()` returns.
    private(set) var published: [Int]
    private(set) var skippedBatches = 0
    private(set) var failure: String?
    static let maxBehind = 10

    init(publisher: Publisher, symbols: Int) {
        self.publisher = publisher
        published = Array(repeating: 0, count: symbols)
    }

    func start() {
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "bench-publisher"
        thread.start()
    }

    private func run() {
        let interval = MarketPreset.batchInterval.rawValue
        var offset = 0
        var next = Clock.monotonicNanos()
        while !stopFlag.load(ordering: .relaxed) {
            let now = Clock.monotonicNanos()
            if now < next {
                let wait = next - now
                usleep(UInt32(max(1, wait / 1_000)))
                continue
            }
            if now - next > UInt64(Self.maxBehind) * interval {
                let behind = Int((now - next) / interval)
                skippedBatches += behind
                next += UInt64(behind) * interval
            }
            do {
                let perSymbol = try publisher.publish(count: MarketPreset.batchTicks, symbols: 0..<published.count, startAt: &offset)
                for (symbol, n) in perSymbol { published[symbol] += n }
            } catch {
                failure = "\(error)"
                return
            }
            next += interval
        }
    }

    /// Stops after the batch in flight and waits for the thread.
    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        done.wait()
    }
}

extension Runner {
    /// One open-loop run: `seconds` measured after a one-second warm-up,
    /// then the publisher stops and the clients drain (up to 10 s) before
    /// copies owed and accounted are compared.
    func openLoop(preset name: String, _ preset: MarketPreset, setup: ServerSetup, pinned: Bool) throws -> RunResult {
        let token = "bench-\(UInt64.random(in: 1...UInt64.max))"
        let server = try BenchServer(arguments: setup.arguments + [
            "--no-feed", "--publish-token", token,
            "--heartbeat-ms", "600000", "--max-connections", "19000", "--rate-limit", "100000",
        ], binary: setup.binary ?? serverBinary, pinned: pinned)
        defer { server.stop() }
        let symbols = MarketPreset.symbols
        let fleet = Fleet(symbolCount: symbols)
        defer { fleet.closeAll() }
        let assigned = assignments(clients: preset.clients, symbols: symbols, perClient: preset.perClient)
        var subscribers = Array(repeating: 0, count: symbols)
        for ids in assigned { for id in ids { subscribers[id] += 1 } }
        try connect(fleet, port: server.port, queries: queries(assigned))
        let feed = OpenLoopPublisher(
            publisher: try Publisher(port: server.port, token: token, symbols: universe, symbolCount: symbols),
            symbols: symbols)
        feed.start()
        usleep(1_000_000)   // warm-up: the loops' tables and queues reach their working size
        fleet.resetMeasurements()
        let sends0 = ServerSends.read(port: server.port)
        let (elapsed, serverCPU, selfCPU) = window(server) { usleep(UInt32(seconds * 1_000_000)) }
        let sends1 = ServerSends.read(port: server.port)
        let windowRecords = fleet.counters.records.load(ordering: .relaxed)
        let windowFrames = fleet.counters.frames.load(ordering: .relaxed)
        let windowBytes = fleet.counters.bytes.load(ordering: .relaxed)
        let measured = fleet.result()
        let histogram = measured.histogram
        feed.stop()
        if let failure = feed.failure { throw BenchError("publisher failed: \(failure)") }

        // Every copy owed: each published tick once per subscriber of its symbol.
        var owed = 0
        for (symbol, n) in feed.published.enumerated() { owed += n * subscribers[symbol] }
        var ledger = fleet.result().ledger
        var accounted = ledger.records + Int(ledger.conflated)
        let drainDeadline = Date().addingTimeInterval(10)
        var lastChange = Date()
        while accounted < owed && Date() < drainDeadline && Date().timeIntervalSince(lastChange) < 2 {
            usleep(50_000)
            ledger = fleet.result().ledger
            let now = ledger.records + Int(ledger.conflated)
            if now != accounted { lastChange = Date() }
            accounted = now
        }

        var run = summarize(preset: name, mode: setup.label + (pinned ? " pinned" : " unpinned"), clients: preset.clients,
                            symbols: symbols, perClient: preset.perClient, elapsed: elapsed, fleet: fleet,
                            result: FleetResult(histogram: histogram, queued: measured.queued, arrived: measured.arrived, ledger: ledger), serverCPU: serverCPU,
                            selfCPU: selfCPU, serverRSS: server.residentBytes)
        // `summarize` read the live counters; the window's are these.
        run.frames = windowFrames
        run.records = windowRecords
        run.bytes = windowBytes
        run.framesPerSecond = Double(windowFrames) / elapsed
        run.ticksPerSecond = Double(windowRecords) / elapsed
        run.megabytesPerSecond = Double(windowBytes) / elapsed / 1e6
        run.serverCPUNanosPerTick = windowRecords > 0 ? serverCPU / 100 * elapsed * 1e9 / Double(windowRecords) : nil
        if let s0 = sends0, let s1 = sends1 { run.sendsPerSecond = Double(s1 - s0) / elapsed }
        run.pinned = pinned
        run.takeTimeSplit(measured)
        run.expectedRecords = owed
        run.copiesOwed = owed
        run.copiesAccounted = accounted
        run.conflatedCopies = Int(ledger.conflated)
        run.publisherSkippedBatches = feed.skippedBatches
        run.lossClean = ledger.isClean && accounted == owed
        let conflation = ledger.conflated > 0 ? "\(ledger.conflated) conflated (declared)" : "none conflated"
        run.lossCheck = run.lossClean
            ? "ok: \(accounted) of \(owed) copies, \(conflation)"
            : "FAILED: \(accounted) of \(owed) copies accounted, gaps \(ledger.gaps) (\(ledger.missing) missing), dup \(ledger.duplicates), reordered \(ledger.reordered)"
        if feed.skippedBatches > 0 {
            run.lossCheck += ", publisher skipped \(feed.skippedBatches) batches"
        }
        return run
    }
}

/// The server's socket sends so far, from `/metrics`: every `sendmsg` and
/// io_uring send (`ticker_socket_sends_total`); a build without that family
/// (older than issue 24) reports its io_uring sends, the default path then.
enum ServerSends {
    static func read(port: UInt16) -> UInt64? {
        guard let body = HTTPProbe.get(port: port, path: "/metrics", timeout: 2).body else { return nil }
        return value(of: "ticker_socket_sends_total", in: body) ?? value(of: "ticker_io_uring_sends_total", in: body)
    }

    static func value(of family: String, in body: String) -> UInt64? {
        for line in body.split(separator: "\n") where line.hasPrefix(family + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }.map { UInt64($0) }
        }
        return nil
    }
}
