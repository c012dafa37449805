import FanoutHub
import MarketData
import PosixIO
import Synchronization

/// The node's tick stream on its way to the loops: the run it belongs to
/// (epoch), the loops' inboxes, and the one `publish` both sources (the feed
/// and `/v1/publish`, or a gateway's Redis reader) fan out through.
final class Broadcast: Sendable {
    /// Symbols of the universe (ids `0..<symbolCount`).
    let symbolCount: Int
    /// Sent in `welcome`; a resume naming another epoch is reset. A gateway
    /// adopts the feed's new epoch when the feed restarts (`adoptEpoch`).
    var epoch: UInt64 { epochValue.load(ordering: .acquiring) }
    private let epochValue: Atomic<UInt64>
    let feedTicks = Atomic<UInt64>(0)
    let feedBatches = Atomic<UInt64>(0)
    /// One-tick-per-message delivery: batches carry a whole frame per tick too.
    private let perTickFrames: Bool
    private let inboxList = Mutex<[LoopInbox]>([])
    /// Called with every batch `publish` fans out (the feed node's Redis writer).
    private let batchTap = Mutex<(@Sendable (TickBatch) -> Void)?>(nil)

    init(symbolCount: Int, epoch: UInt64, delivery: DeliveryMode) {
        self.symbolCount = symbolCount
        epochValue = Atomic(epoch)
        perTickFrames = delivery == .perTick
    }

    func adoptEpoch(_ epoch: UInt64) { epochValue.store(epoch, ordering: .releasing) }

    func addInbox(_ inbox: LoopInbox) { inboxList.withLock { $0.append(inbox) } }

    /// Every loop's inbox, in loop order.
    var inboxes: [LoopInbox] { inboxList.withLock { $0 } }

    func setBatchTap(_ tap: @escaping @Sendable (TickBatch) -> Void) { batchTap.withLock { $0 = tap } }

    /// Encodes ticks once, with per-tick frames only if delivery uses them.
    func makeBatch(_ ticks: [Tick]) -> TickBatch {
        TickBatch(ticks: ticks, sendTimeNs: Clock.wallNanos(), perTickFrames: perTickFrames)
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
        for inbox in inboxes where inbox !== own { inbox.post(batch) }
        if let tap = batchTap.withLock({ $0 }) { tap(batch) }
    }

    /// True when a loop's inbox is at its bound: it folds what it gets, so
    /// making more ticks would only cost the feed's CPU, which the loops need.
    func loopsSaturated() -> Bool {
        inboxes.contains { $0.pendingTicks.load(ordering: .relaxed) >= $0.maxPendingTicks }
    }
}
