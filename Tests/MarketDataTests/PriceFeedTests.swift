import MarketData
import Testing
@testable import PriceFeed

@Suite struct PriceFeedTests {
    static let start: UInt64 = 1_717_171_200_000_000_000

    private func feed(seed: UInt64 = 42, meanIntervalMs: Double = 10) throws -> PriceFeed {
        try PriceFeed(symbols: try Fixtures.symbols(), config: PriceFeedConfig(seed: seed, meanIntervalMs: meanIntervalMs, startTimeNs: Self.start))
    }

    /// Drives the feed in 1 ms steps, as the server does, until `count` ticks exist.
    private func run(_ feed: inout PriceFeed, ticks count: Int) -> [Tick] {
        var ticks: [Tick] = []
        var now = Self.start
        while ticks.count < count {
            now += 1_000_000
            feed.advance(to: now, into: &ticks)
        }
        return ticks
    }

    private func encoded(_ ticks: [Tick]) -> [UInt8] {
        var bytes: [UInt8] = []
        for tick in ticks { TickWire.appendRecord(tick, to: &bytes) }
        return bytes
    }

    @Test func sameSeedProducesIdenticalBytes() throws {
        var a = try feed()
        var b = try feed()
        let first = Array(run(&a, ticks: 10_000).prefix(10_000))
        // A different advance cadence must not change the output either.
        var second: [Tick] = []
        var now = Self.start
        while second.count < 10_000 {
            now += 7_300_000
            b.advance(to: now, into: &second)
        }
        #expect(first.count == 10_000)
        #expect(encoded(first) == encoded(Array(second.prefix(10_000))))
    }

    @Test func differentSeedDiffers() throws {
        var a = try feed(seed: 42)
        var b = try feed(seed: 43)
        #expect(encoded(Array(run(&a, ticks: 10_000).prefix(10_000))) != encoded(Array(run(&b, ticks: 10_000).prefix(10_000))))
    }

    @Test func ticksAreTimeOrderedAndNotInLockstep() throws {
        var feed = try feed()
        let ticks = run(&feed, ticks: 20_000)
        for (a, b) in zip(ticks, ticks.dropFirst()) {
            #expect(a.eventTimeNs < b.eventTimeNs || (a.eventTimeNs == b.eventTimeNs && a.symbolId < b.symbolId))
        }
        #expect(ticks.allSatisfy { $0.eventTimeNs > Self.start })
        // Poisson arrivals: practically no two ticks share a nanosecond.
        #expect(Set(ticks.map(\.eventTimeNs)).count > ticks.count * 99 / 100)
    }

    @Test func sequencesStartAtOneAndAreContiguous() throws {
        var feed = try feed()
        let ticks = run(&feed, ticks: 30_000)
        var expected: [UInt32: UInt64] = [:]
        for tick in ticks {
            #expect(tick.sequence == expected[tick.symbolId, default: 0] + 1)
            expected[tick.symbolId] = tick.sequence
            #expect(tick.flags.isEmpty && tick.conflatedCount == 0)
        }
        for (id, sequence) in expected {
            #expect(feed.lastTick(symbolId: id)?.sequence == sequence)
        }
    }

    @Test func quotesAreValidTickMultiples() throws {
        let table = try Fixtures.symbols()
        var feed = try feed()
        for tick in run(&feed, ticks: 50_000) {
            let info = table[tick.symbolId]
            #expect(tick.priceExponent == info.priceExponent)
            #expect(tick.bid > 0 && tick.bid < tick.ask)
            #expect((tick.ask - tick.bid) / info.tickMantissa <= 3)
            #expect(tick.last >= tick.bid && tick.last <= tick.ask)
            #expect(tick.bid % info.tickMantissa == 0 && tick.ask % info.tickMantissa == 0 && tick.last % info.tickMantissa == 0)
            #expect(tick.bidSize > 0 && tick.bidSize % info.lotSize == 0)
            #expect(tick.askSize > 0 && tick.askSize % info.lotSize == 0)
            #expect(tick.lastSize > 0 && tick.lastSize % info.lotSize == 0)
        }
    }

    @Test func pricesStayNearTheStartOverShortHorizons() throws {
        let table = try Fixtures.symbols()
        var feed = try feed()
        _ = run(&feed, ticks: 50_000)
        for info in table.all {
            guard let tick = feed.lastTick(symbolId: info.id) else { continue }
            let mid = PriceScale.price(mantissa: tick.bid + tick.ask, exponent: tick.priceExponent) / 2
            // ~1 s of simulated trading moves a price by far less than 5 %.
            #expect(abs(mid / info.price - 1) < 0.05 || abs(mid - info.price) <= 3 * info.tickSize, "\(info.symbol) \(mid) vs \(info.price)")
        }
    }

    @Test func highVolatilityPennyStocksStayPositive() throws {
        let table = SymbolTable(symbols: [
            SymbolInfo(id: 0, symbol: "PENNY", price: 0.02, volatility: 5, tickSize: 0.01, lotSize: 1000)
        ])
        var feed = try PriceFeed(symbols: table, config: PriceFeedConfig(seed: 1, meanIntervalMs: 60_000, startTimeNs: 0))
        var ticks: [Tick] = []
        // A minute between ticks with 500 % volatility: large moves, floor must hold.
        feed.advance(to: 600_000_000_000_000, into: &ticks)
        #expect(ticks.count > 1_000)
        for tick in ticks { #expect(tick.bid >= 1 && tick.ask > tick.bid) }
    }

    @Test func tickRatesMatchTheConfiguredInterval() throws {
        let table = try Fixtures.symbols()
        var feed = try feed(meanIntervalMs: 10)
        var counts = [Int](repeating: 0, count: table.count)
        var ticks: [Tick] = []
        ticks.reserveCapacity(60_000)
        let seconds: UInt64 = 20
        var now = Self.start
        while now < Self.start + seconds * 1_000_000_000 {
            now += 1_000_000
            ticks.removeAll(keepingCapacity: true)
            feed.advance(to: now, into: &ticks)
            for tick in ticks { counts[Int(tick.symbolId)] += 1 }
        }
        // Aggregate: count / meanInterval ticks per second (weights average to 1).
        let total = Double(counts.reduce(0, +))
        let expectedTotal = Double(table.count) * Double(seconds) * 100
        #expect(abs(total / expectedTotal - 1) < 0.01)
        // Per symbol: Poisson with ~2,000 events has σ ≈ 2.2 %; allow 6σ.
        for info in table.all {
            let expected = Double(seconds) * 1e9 / feed.meanIntervalNs(symbolId: info.id)
            #expect(abs(Double(counts[Int(info.id)]) / expected - 1) < 0.15, "\(info.symbol)")
        }
        // Liquid names (listed first) tick more than the tail.
        #expect(feed.meanIntervalNs(symbolId: 0) < feed.meanIntervalNs(symbolId: UInt32(table.count - 1)))
    }

    @Test func lastTickIsNilBeforeTheFirstEvent() throws {
        let feed = try feed()
        #expect(feed.lastTick(symbolId: 0) == nil)
        #expect(feed.nextEventTimeNs.map { $0 > Self.start } == true)
    }

    @Test func rejectsOutOfRangeIntervals() throws {
        let table = try Fixtures.symbols()
        for bad in [0.05, 0, -1, 60_001, .nan, .infinity] {
            // NaN never compares equal, so match on the type here.
            #expect(throws: PriceFeedConfigError.self) {
                try PriceFeed(symbols: table, config: PriceFeedConfig(meanIntervalMs: bad, startTimeNs: 0))
            }
        }
        #expect(throws: PriceFeedConfigError.meanIntervalOutOfRange(0.05)) {
            try PriceFeed(symbols: table, config: PriceFeedConfig(meanIntervalMs: 0.05, startTimeNs: 0))
        }
        _ = try PriceFeed(symbols: table, config: PriceFeedConfig(meanIntervalMs: 0.1, startTimeNs: 0))
        _ = try PriceFeed(symbols: table, config: PriceFeedConfig(meanIntervalMs: 60_000, startTimeNs: 0))
    }
}
