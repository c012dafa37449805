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
        let period = UInt64(max(0.05, shared.config.feedPeriodMs) * 1_000_000)
        var ticks: [Tick] = []
        ticks.reserveCapacity(4096)
        var next = Clock.monotonicNanos() + period
        while !stopped.load(ordering: .acquiring) {
            Clock.sleep(untilMonotonic: next)
            next += period
            let now = Clock.monotonicNanos()
            if now > next + 100 * period {
                // Far behind (the machine stalled): skip ahead, do not burst.
                next = now + period
            }
            ticks.removeAll(keepingCapacity: true)
            feed.advance(to: Clock.wallNanos(), into: &ticks)
            if !ticks.isEmpty {
                shared.publish(shared.makeBatch(ticks))
            }
        }
    }

    /// Stops the thread and waits for it; a no-op when it never started.
    func stop() {
        let wasStopped = stopped.exchange(true, ordering: .acquiringAndReleasing)
        if !wasStopped && running.load(ordering: .acquiring) { done.wait() }
    }
}
