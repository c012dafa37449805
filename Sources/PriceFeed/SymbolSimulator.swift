import CMath
import MarketData

/// The state of one symbol's random walk. Each symbol owns its generator so
/// its path depends only on the seed and its id, not on how many other
/// symbols exist or how their events interleave.
struct SymbolSimulator: Sendable {
    private var random: NormalGenerator<Xoshiro256StarStar>
    /// Continuous GBM price; quotes are derived from it by rounding, and
    /// keeping the unrounded value avoids a drift from repeated rounding.
    private var price: Double
    private var lastEventNs: UInt64
    private let sigma: Double
    private let tickSize: Double
    private let tickMantissa: Int64
    private let exponent: Int8
    private let lotSize: UInt32
    private let symbolId: UInt32
    let meanGapNs: Double
    private(set) var lastTick: Tick

    init(info: SymbolInfo, meanGapNs: Double, startTimeNs: UInt64, generator: Xoshiro256StarStar) {
        random = NormalGenerator(base: generator)
        price = info.price
        lastEventNs = startTimeNs
        sigma = info.volatility
        tickSize = info.tickSize
        tickMantissa = info.tickMantissa
        exponent = info.priceExponent
        lotSize = info.lotSize
        symbolId = info.id
        self.meanGapNs = meanGapNs
        // Sequence 0 marks "no tick yet"; the first real tick is 1.
        lastTick = Tick(
            symbolId: info.id, priceExponent: exponent, sequence: 0, eventTimeNs: startTimeNs,
            bid: 0, ask: 0, last: 0, bidSize: 0, askSize: 0, lastSize: 0)
    }

    /// Gap to this symbol's next event: exponential, i.e. a Poisson process.
    mutating func nextGapNs() -> UInt64 {
        // At least 1 ns so a symbol can never be scheduled twice at one time.
        UInt64(max(1, random.nextExponential(mean: meanGapNs).rounded()))
    }

    /// Advances the walk to `timeNs` and returns the resulting quote/trade.
    mutating func step(at timeNs: UInt64) -> Tick {
        let dt = TradingCalendar.years(nanoseconds: timeNs &- lastEventNs)
        lastEventNs = timeNs
        // Driftless GBM: the -σ²/2 term makes the price a martingale, so a
        // long-running server neither trends up nor down on average.
        let z = random.nextStandardNormal()
        price *= ticker_exp(-0.5 * sigma * sigma * dt + sigma * dt.squareRoot() * z)
        price = max(price, tickSize)

        let midTicks = max(1, Int64((price / tickSize).rounded()))
        let spreadTicks = Int64(spreadDraw())
        let bidTicks = max(1, midTicks - spreadTicks / 2)
        let askTicks = bidTicks + spreadTicks
        let side = random.nextUnitDouble()
        // Trades mostly hit a side of the book; occasionally inside (midpoint).
        let lastTicks = side < 0.45 ? bidTicks : side < 0.9 ? askTicks : min(max(midTicks, bidTicks), askTicks)

        lastTick = Tick(
            symbolId: symbolId, priceExponent: exponent, sequence: lastTick.sequence + 1, eventTimeNs: timeNs,
            bid: bidTicks * tickMantissa, ask: askTicks * tickMantissa, last: lastTicks * tickMantissa,
            bidSize: lots(1 + random.nextBelow(10)), askSize: lots(1 + random.nextBelow(10)),
            lastSize: lots(1 + random.nextBelow(5)))
        return lastTick
    }

    /// 1, 2 or 3 ticks with weights 60/30/10: liquid books are usually one
    /// tick wide.
    private mutating func spreadDraw() -> Int {
        let u = random.nextUnitDouble()
        return u < 0.6 ? 1 : u < 0.9 ? 2 : 3
    }

    /// Sizes are whole round lots; saturate instead of trapping on absurd lots.
    private func lots(_ count: UInt32) -> UInt32 {
        let (product, overflow) = lotSize.multipliedReportingOverflow(by: count)
        return overflow ? UInt32.max : product
    }
}
