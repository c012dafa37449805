import FanoutHub
import PosixIO

extension LoopWorker {
    /// Called when a publisher's read is done: one batch for all the
    /// messages of the read, posted to the other loops once (one lock and at
    /// most one wake-up each, not one per message), and published on this
    /// loop directly at the end of the iteration. Publishers that arrive
    /// together share that round, so a subscriber gets one message for them.
    /// While the loop is behind, the batch goes through this loop's inbox
    /// instead, whose bound and folding then apply as for any other source.
    func publishIngest() {
        guard !ingestTicks.isEmpty else { return }
        let batch = TickBatch(ticks: ingestTicks, records: ingestRecords, sendTimeNs: Clock.wallNanos(),
                              perTickFrames: config.hub.delivery == .perTick)
        ingestTicks.removeAll(keepingCapacity: true)
        ingestRecords.removeAll(keepingCapacity: true)
        shared.broadcast.publish(batch, except: inbox)
        if shuttingDown || inbox.behind.load(ordering: .relaxed) {
            inbox.post(batch)
        } else {
            if localBatches.isEmpty { localPostedNanos = Clock.monotonicNanos() }
            localBatches.append(batch)
            loop.requestAfterEvents()
        }
    }
}
