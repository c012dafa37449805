import MarketData
import Synchronization

/// `/v1/publish`'s admission: ownership and last sequence of every symbol
/// (`IngestLedger`) behind one lock, taken once per published message, never
/// per tick or per subscriber.
final class IngestGate: Sendable {
    private let ledger: Mutex<IngestLedger>

    init(symbolCount: Int, feedOwnsAll: Bool) {
        ledger = Mutex(IngestLedger(symbolCount: symbolCount, feedOwnsAll: feedOwnsAll))
    }

    /// Admits one validated message for `owner` (all of it or none); the
    /// caller fans it out (one batch per read, see LoopWorker.publishIngest).
    /// Order is still the ledger's: a symbol's owner publishes from its one
    /// loop thread, and its claim is released (on close) only after its last
    /// batch was posted, so no other publisher's batch of the same symbol can
    /// reach an inbox first.
    func admit(_ ticks: ArraySlice<Tick>, from owner: IngestLedger.Owner) throws(IngestRejection) {
        try ledger.withLock { ledger throws(IngestRejection) in try ledger.admit(ticks, from: owner) }
    }

    /// Called when a publisher connection closes: its symbols become free.
    func release(owner: IngestLedger.Owner) {
        ledger.withLock { _ = $0.release(owner) }
    }
}
