import FanoutHub
import Foundation
import MarketData
import PosixIO
import Synchronization

/// Read-only (or atomic) state every loop and the feed share.
final class ServerShared: Sendable {
    let config: ServerConfig
    let symbols: SymbolTable
    /// Auth on (`--auth-keys`): keys, revocations, subjects' connections.
    let access: AccessControl?
    /// `GET /v1/symbols` body, rendered once.
    let symbolsJSON: [UInt8]
    let startedAt = Clock.wallNanos()
    /// Sent in `welcome`; a resume naming another epoch is reset. A gateway
    /// adopts the feed's new epoch when the feed restarts (`adoptEpoch`).
    var epoch: UInt64 { epochValue.load(ordering: .acquiring) }
    private let epochValue: Atomic<UInt64>
    let feedTicks = Atomic<UInt64>(0)
    let feedBatches = Atomic<UInt64>(0)
    let openConnections = Atomic<Int>(0)
    /// Of those, connections accepted only to be refused (503/429), bounded
    /// by the over-capacity reserve so refusals cannot take admitted slots.
    let refusedPending = Atomic<Int>(0)
    /// Connections holding one of the `maxConnections` slots. Taken with an
    /// atomic add before the check, so two loops accepting at the same
    /// moment cannot both take the last slot.
    let admittedConnections = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    let loopMetrics: [LoopMetrics]
    let feedMetrics = FeedMetrics()
    private let inboxes = Mutex<[LoopInbox]>([])
    /// Called with every batch `publish` fans out (the feed node's Redis writer).
    private let batchTap = Mutex<(@Sendable (TickBatch) -> Void)?>(nil)
    /// The Redis link's own health and metrics (nil in single-node mode).
    private let redisStatus = Mutex<(any RedisLinkStatus)?>(nil)
    /// Open connections per peer address, across loops (the per-address limit).
    private let perAddress = Mutex<[UInt128: Int]>([:])
    /// Ownership and last sequence of every symbol for `/v1/publish`; one
    /// lock per published message, never per tick or per subscriber.
    private let ingestLedger: Mutex<IngestLedger>

    init(config: ServerConfig, symbols: SymbolTable, access: AccessControl? = nil) {
        self.config = config
        self.symbols = symbols
        self.access = access
        // 1...2^53: exact in a JavaScript number.
        epochValue = Atomic(config.epoch ?? UInt64.random(in: 1...ResumeRequest.maxSequence))
        ingestLedger = Mutex(IngestLedger(symbolCount: symbols.count, feedOwnsAll: config.simulatedFeed))
        symbolsJSON = Array(SymbolDirectory.json(symbols).utf8)
        loopMetrics = (0..<config.loops).map { _ in LoopMetrics() }
    }

    func adoptEpoch(_ epoch: UInt64) { epochValue.store(epoch, ordering: .releasing) }

    func addInbox(_ inbox: LoopInbox) { inboxes.withLock { $0.append(inbox) } }

    func setBatchTap(_ tap: @escaping @Sendable (TickBatch) -> Void) { batchTap.withLock { $0 = tap } }
    func setRedisStatus(_ status: any RedisLinkStatus) { redisStatus.withLock { $0 = status } }

    /// Encodes ticks once, with per-tick frames only if delivery uses them.
    func makeBatch(_ ticks: [Tick]) -> TickBatch {
        TickBatch(ticks: ticks, sendTimeNs: Clock.wallNanos(), perTickFrames: config.hub.delivery == .perTick)
    }

    /// Hands a batch to every loop. Called by the feed thread, so both
    /// sources (feed and `/v1/publish`) fan out the same way.
    func publish(_ batch: TickBatch) {
        publish(batch, except: nil)
    }

    /// Hands a batch to every loop but `own`: a publisher's loop fans its
    /// ingest out itself, with no eventfd wake-up of itself (LoopWorker.publishIngest).
    func publish(_ batch: TickBatch, except own: LoopInbox?) {
        feedTicks.wrappingAdd(UInt64(batch.count), ordering: .relaxed)
        feedBatches.wrappingAdd(1, ordering: .relaxed)
        for inbox in inboxes.withLock({ $0 }) where inbox !== own { inbox.post(batch) }
        if let tap = batchTap.withLock({ $0 }) { tap(batch) }
    }

    /// `/v1/publish`: admits one validated message for `owner` (all of it or
    /// none) in the ingest ledger; the caller fans it out (one batch per read,
    /// see LoopWorker.publishIngest). Order is still the ledger's: a symbol's
    /// owner publishes from its one loop thread, and its claim is released
    /// (on close) only after its last batch was posted, so no other
    /// publisher's batch of the same symbol can reach an inbox first.
    func admit(_ ticks: ArraySlice<Tick>, from owner: IngestLedger.Owner) throws(IngestRejection) {
        try ingestLedger.withLock { ledger throws(IngestRejection) in try ledger.admit(ticks, from: owner) }
    }

    /// Admits and publishes one message at once (tests, tools).
    func ingest(_ ticks: [Tick], from owner: IngestLedger.Owner) throws(IngestRejection) {
        try admit(ticks[...], from: owner)
        publish(makeBatch(ticks))
    }

    /// Called when a publisher connection closes: its symbols become free.
    func releaseIngest(owner: IngestLedger.Owner) {
        ingestLedger.withLock { _ = $0.release(owner) }
    }

    func renderMetrics() -> String {
        BuildInfo.metric(mode: config.redis.map { if case .feed = $0 { "feed" } else { "gateway" } } ?? "single")
        + MetricsRenderer.render(
            loops: loopMetrics,
            feedTicks: feedTicks.load(ordering: .relaxed),
            feedBatches: feedBatches.load(ordering: .relaxed),
            startedAt: startedAt, now: Clock.wallNanos())
        + MetricsRenderer.renderOverload(
            loops: loopMetrics, inboxes: inboxes.withLock { $0 }, feed: feedMetrics, now: Clock.monotonicNanos())
        + (redisStatus.withLock { $0 }?.metricsText() ?? "")
        + (access?.metricsText() ?? "")
    }

    /// True when a loop's inbox is at its bound: it folds what it gets, so
    /// making more ticks would only cost the feed's CPU, which the loops need.
    func loopsSaturated() -> Bool {
        inboxes.withLock { $0 }.contains { $0.pendingTicks.load(ordering: .relaxed) >= $0.maxPendingTicks }
    }

    /// `/healthz`: nil when healthy, else why the node is degraded (a loop
    /// whose oldest waiting batch is older than `overload.maxLag`).
    func degradedReason() -> String? {
        if let why = redisStatus.withLock({ $0 })?.degradedReason() { return why }
        let now = Clock.monotonicNanos()
        let limit = config.overload.maxLag
        for (i, inbox) in inboxes.withLock({ $0 }).enumerated() {
            let lag = Nanoseconds(inbox.lagNanos(now: now))
            if lag > limit {
                return "loop \(i) lags \(lag.milliseconds) ms behind the feed (threshold \(limit.milliseconds) ms)"
            }
        }
        return nil
    }

    /// Counts a connection from `address`; false (and nothing counted) when
    /// that address already holds `overload.maxConnectionsPerAddress`.
    func admit(address: UInt128) -> Bool {
        let limit = config.overload.maxConnectionsPerAddress
        return perAddress.withLock { counts in
            let n = counts[address, default: 0]
            if limit > 0 && n >= limit { return false }
            counts[address] = n + 1
            return true
        }
    }

    func release(address: UInt128) {
        perAddress.withLock { counts in
            guard let n = counts[address] else { return }
            if n <= 1 { counts[address] = nil } else { counts[address] = n - 1 }
        }
    }
}

/// The `GET /v1/symbols` document.
enum SymbolDirectory {
    static func json(_ table: SymbolTable) -> String {
        var out = "["
        for (i, s) in table.all.enumerated() {
            if i > 0 { out += "," }
            out += "{\"symbol\":\"\(s.symbol)\",\"id\":\(s.id),\"price_exponent\":\(s.priceExponent),"
            out += "\"tick_size\":\(s.tickSize),\"price\":\(s.price)}"
        }
        return out + "]"
    }
}
