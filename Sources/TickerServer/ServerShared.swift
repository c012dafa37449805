import FanoutHub
import Foundation
import MarketData
import PosixIO
import Synchronization

/// Batches waiting for one event loop. The feed appends and wakes the loop;
/// the loop takes them all at once. One lock per batch per loop, never per
/// tick or per subscriber.
final class LoopInbox: Sendable {
    private let batches = Mutex<[TickBatch]>([])
    let waker: EventLoopWaker

    init(waker: EventLoopWaker) { self.waker = waker }

    func post(_ batch: TickBatch) {
        batches.withLock { $0.append(batch) }
        waker.wake()
    }

    func takeAll() -> [TickBatch] {
        batches.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
    }
}

/// Read-only (or atomic) state every loop and the feed share.
final class ServerShared: Sendable {
    let config: ServerConfig
    let symbols: SymbolTable
    /// `GET /v1/symbols` body, rendered once.
    let symbolsJSON: [UInt8]
    let startedAt = Clock.wallNanos()
    let feedTicks = Atomic<UInt64>(0)
    let feedBatches = Atomic<UInt64>(0)
    let openConnections = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    let loopMetrics: [LoopMetrics]
    private let inboxes = Mutex<[LoopInbox]>([])
    /// Ownership and last sequence of every symbol for `/v1/publish`; one
    /// lock per published message, never per tick or per subscriber.
    private let ingestLedger: Mutex<IngestLedger>

    init(config: ServerConfig, symbols: SymbolTable) {
        self.config = config
        self.symbols = symbols
        ingestLedger = Mutex(IngestLedger(symbolCount: symbols.count, feedOwnsAll: config.simulatedFeed))
        symbolsJSON = Array(SymbolDirectory.json(symbols).utf8)
        loopMetrics = (0..<config.loops).map { _ in LoopMetrics() }
    }

    func addInbox(_ inbox: LoopInbox) { inboxes.withLock { $0.append(inbox) } }

    /// Encodes ticks once, with per-tick frames only if delivery uses them.
    func makeBatch(_ ticks: [Tick]) -> TickBatch {
        TickBatch(ticks: ticks, sendTimeNs: Clock.wallNanos(), perTickFrames: config.hub.delivery == .perTick)
    }

    /// Hands a batch to every loop. Called by the feed thread and by
    /// `/v1/publish` connections, so both sources fan out the same way.
    func publish(_ batch: TickBatch) {
        feedTicks.wrappingAdd(UInt64(batch.count), ordering: .relaxed)
        feedBatches.wrappingAdd(1, ordering: .relaxed)
        for inbox in inboxes.withLock({ $0 }) { inbox.post(batch) }
    }

    /// `/v1/publish`: admits one validated message for `owner` (all of it or
    /// none), then fans it out like a feed batch. Encoding happens outside
    /// the lock. Order is still the ledger's: a symbol's owner publishes from
    /// its one loop thread, and its claim is released (on close) only after
    /// its last batch was posted, so no other publisher's batch of the same
    /// symbol can reach an inbox first.
    func ingest(_ ticks: [Tick], from owner: IngestLedger.Owner) throws(IngestRejection) {
        try ingestLedger.withLock { ledger throws(IngestRejection) in try ledger.admit(ticks, from: owner) }
        publish(makeBatch(ticks))
    }

    /// Called when a publisher connection closes: its symbols become free.
    func releaseIngest(owner: IngestLedger.Owner) {
        ingestLedger.withLock { _ = $0.release(owner) }
    }

    func renderMetrics() -> String {
        MetricsRenderer.render(
            loops: loopMetrics,
            feedTicks: feedTicks.load(ordering: .relaxed),
            feedBatches: feedBatches.load(ordering: .relaxed),
            startedAt: startedAt, now: Clock.wallNanos())
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
