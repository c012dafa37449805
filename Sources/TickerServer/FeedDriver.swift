import FanoutHub
import Foundation
import MarketData
import PosixIO
import PriceFeed
import Synchronization

/// The simulated feed's own thread: every `feedPeriodMs` it advances the
/// price model to the wall clock, encodes the new ticks once (`TickBatch`)
/// and hands the batch to every loop.
final class FeedDriver: Sendable {
    private let shared: ServerShared
    private let stopped = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(shared: ServerShared) { self.shared = shared }

    func start() throws {
        let config = shared.config
        let feedConfig = PriceFeedConfig(
            seed: config.seed, meanIntervalMs: config.meanIntervalMs, startTimeNs: Clock.wallNanos())
        let feed = try PriceFeed(symbols: shared.symbols, config: feedConfig)
        let thread = Thread { [self] in
            run(feed)
            done.signal()
        }
        thread.name = "ticker-feed"
        running.store(true, ordering: .releasing)
        thread.start()
    }

    private func run(_ initial: PriceFeed) {
        var feed = initial
        let period = Nanoseconds(UInt64(max(0.05, shared.config.feedPeriodMs) * 1_000_000))
        var ticks: [Tick] = []
        ticks.reserveCapacity(4096)
        var next = Clock.now() + period
        var lastLog: Instant?
        let metrics = shared.health.feedMetrics
        let policy = shared.config.overload
        while !stopped.load(ordering: .acquiring) {
            Clock.sleep(until: next)
            next = next + period
            let now = Clock.now()
            if now > next + Nanoseconds(100 &* period.rawValue) {
                // Far behind (the machine stalled): skip ahead, do not burst.
                next = now + period
            }
            ticks.removeAll(keepingCapacity: true)
            let wall = Clock.wallNanos()
            var skippedTo: UInt64 = 0
            // Behind by more than the larger of `feedMaxBehind` and two
            // periods: a long period is a schedule, not a delay.
            let maxBehind = max(policy.feedMaxBehind, period + period).rawValue
            if let due = feed.nextEventTimeNs, due != .max, wall > due &+ maxBehind {
                skippedTo = max(due, wall - period.rawValue)
                metrics.skippedNanos.wrappingAdd(skippedTo - due, ordering: .relaxed)
                feed.skip(to: skippedTo)
            }
            if skippedTo == 0, shared.broadcast.loopsSaturated(), let due = feed.nextEventTimeNs, due != .max, due < wall {
                // Backpressure: the loops are folding already; move the model
                // on without making ticks they would only fold away.
                metrics.skippedNanos.wrappingAdd(wall - due, ordering: .relaxed)
                feed.skip(to: wall)
                skippedTo = wall
            } else if !feed.advance(to: wall, into: &ticks, limit: policy.feedMaxTicksPerBatch) {
                let due = feed.nextEventTimeNs ?? wall
                metrics.skippedNanos.wrappingAdd(wall &- min(wall, due), ordering: .relaxed)
                feed.skip(to: wall)
                skippedTo = wall
            }
            if skippedTo != 0 {
                let skips = metrics.skips.wrappingAdd(1, ordering: .relaxed).newValue
                if lastLog.map({ now - $0 >= .seconds(10) }) ?? true {
                    lastLog = now
                    Log.warning("feed cannot keep its schedule (mean interval \(shared.config.meanIntervalMs) ms): skipping ahead instead of bursting (\(skips) skips so far, see ticker_feed_skipped_seconds_total)")
                }
            }
            if !ticks.isEmpty {
                shared.broadcast.publish(shared.broadcast.makeBatch(ticks))
            }
        }
    }

    /// Stops the thread and waits for it; a no-op when it never started.
    func stop() {
        let wasStopped = stopped.exchange(true, ordering: .acquiringAndReleasing)
        if !wasStopped && running.load(ordering: .acquiring) { done.wait() }
    }
}
