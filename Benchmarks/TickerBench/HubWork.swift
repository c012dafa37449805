import FanoutHub
import Foundation
import MarketData
import PosixIO
import TickerServer

/// `TickerBench hubwork`: a fixed amount of fan-out work in one process,
/// no sockets and no clock, so `valgrind --tool=callgrind` counts the same
/// instructions on every run and two builds can be compared to the percent
/// (the socket scenarios swing by ±20% on two shared cores).
///
/// 1,000 subscribers of 10 of 100 symbols; each round publishes 100 ticks
/// (the `s1` shape) and every touched subscriber's queue is then written in
/// full, as a socket that keeps up would. One subscriber in ten writes only
/// every 400th round: past the backlog age it conflates, has its backlog
/// folded and, once written, its slots drained. Batched delivery first, then one tick per
/// message for the same rounds.
enum HubWork {
    static let subscribers = 1_000
    static let symbols = 100
    static let perSubscriber = 10
    static let ticksPerRound = 100

    @MainActor static func main(arguments: [String]) -> Never {
        var rounds = 2_000
        if let i = arguments.firstIndex(of: "--rounds"), i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 {
            rounds = n
        }
        for delivery in [DeliveryMode.batched, .perTick] {
            let (c, bytes) = run(rounds: rounds, delivery: delivery)
            print("hubwork \(delivery.rawValue): \(rounds) rounds, \(c.ticksQueued) ticks queued, \(bytes) bytes written, "
                  + "\(c.conflationEpisodes) conflation episodes, \(c.ticksFolded) ticks folded, \(c.conflatedUpdates) conflated")
        }
        exit(0)
    }

    static func run(rounds: Int, delivery: DeliveryMode) -> (counters: HubCounters, bytes: Int) {
        var settings = HubSettings()
        settings.delivery = delivery
        settings.retentionNanos = 0
        let hub = LoopHub(symbolCount: symbols, settings: settings)
        var all: [Subscriber] = []
        for i in 0..<subscribers {
            let s = Subscriber(outbox: Outbox(ownerIndex: i))
            hub.attach(s)
            let ids = (0..<perSubscriber).map { UInt32((i * 7 + $0 * 13) % symbols) }
            _ = hub.subscribe(s, to: ids, sendTimeNs: 0)
            all.append(s)
        }
        var sequence = [UInt64](repeating: 0, count: symbols)
        var written = 0
        for r in 0..<rounds {
            let now = UInt64(r + 1) * 1_000_000
            var ticks: [Tick] = []
            ticks.reserveCapacity(ticksPerRound)
            for k in 0..<ticksPerRound {
                let symbol = (r * 37 + k) % symbols
                sequence[symbol] += 1
                let price = Int64(10_000 + (r * 31 + k * 17) % 500)
                ticks.append(Tick(symbolId: UInt32(symbol), priceExponent: -2, sequence: sequence[symbol],
                                  eventTimeNs: now, bid: price, ask: price + 2, last: price + 1,
                                  bidSize: UInt32(100 + k), askSize: UInt32(200 + k), lastSize: 10))
            }
            let batch = TickBatch(ticks: ticks, sendTimeNs: now, perTickFrames: delivery == .perTick)
            for s in hub.publish(batch, sendTimeNs: now, nowNanos: now) {
                // One subscriber in ten is a slow reader: written every 400th round.
                if s.outbox.ownerIndex % 10 == 0 && r % 400 != 0 { continue }
                written += writeAll(s, hub: hub, now: now)
            }
        }
        for s in all { written += writeAll(s, hub: hub, now: UInt64(rounds + 1) * 1_000_000) }
        return (hub.counters, written)
    }

    /// What a flush does when the socket takes everything: write, refill
    /// from the conflation slots once drained, and date the backlog.
    static func writeAll(_ s: Subscriber, hub: LoopHub, now: UInt64) -> Int {
        var written = 0
        while true {
            hub.drain(s, sendTimeNs: now)
            let n = s.outbox.count
            if n == 0 { break }
            s.outbox.didWrite(n)
            written += n
        }
        s.outbox.noteFlush(now: 0)
        return written
    }
}
