import FanoutHub
import MarketData
import PosixIO

extension LoopWorker {
    /// One histogram sample per batch: its first tick's event time to now.
    func recordLatency(_ batches: [TickBatch], _ local: [TickBatch], folded: [Tick]) {
        let done = Clock.wallNanos()
        metrics.overload.latency.withLock { histogram in
            if let first = folded.first {
                histogram.observe(seconds: Double(done &- min(done, first.eventTimeNs)) / 1e9)
            }
            for batch in [batches, local].joined() {
                guard let first = batch.ticks.first else { continue }
                histogram.observe(seconds: Double(done &- min(done, first.eventTimeNs)) / 1e9)
            }
        }
    }
}
