/// One top-of-book update. Prices are integer mantissas with a per-symbol
/// decimal exponent so that the wire never carries binary floating point
/// (which cannot represent 0.01 exactly and would make golden bytes fragile).
public struct Tick: Sendable, Equatable {
    public var symbolId: UInt32
    public var flags: TickFlags
    /// price = mantissa × 10^priceExponent (e.g. -2 for cent ticks).
    public var priceExponent: Int8
    /// Per symbol, starts at 1 and increases by one per generated update, so a
    /// client can detect loss without any other bookkeeping.
    public var sequence: UInt64
    /// Nanoseconds since the Unix epoch at which the update happened (the
    /// simulated event time, not the send time).
    public var eventTimeNs: UInt64
    public var bid: Int64
    public var ask: Int64
    public var last: Int64
    public var bidSize: UInt32
    public var askSize: UInt32
    public var lastSize: UInt32
    /// Updates swallowed before this one by conflation, so that
    /// `sequence == previous + 1 + conflatedCount` holds for every non-gap.
    public var conflatedCount: UInt32

    public init(
        symbolId: UInt32,
        flags: TickFlags = [],
        priceExponent: Int8,
        sequence: UInt64,
        eventTimeNs: UInt64,
        bid: Int64,
        ask: Int64,
        last: Int64,
        bidSize: UInt32,
        askSize: UInt32,
        lastSize: UInt32,
        conflatedCount: UInt32 = 0
    ) {
        self.symbolId = symbolId
        self.flags = flags
        self.priceExponent = priceExponent
        self.sequence = sequence
        self.eventTimeNs = eventTimeNs
        self.bid = bid
        self.ask = ask
        self.last = last
        self.bidSize = bidSize
        self.askSize = askSize
        self.lastSize = lastSize
        self.conflatedCount = conflatedCount
    }
}
