import MarketData

/// A sequence gap: updates for `symbolId` that were neither delivered nor
/// declared by a conflated record's count.
public struct SequenceGap: Equatable, Sendable, CustomStringConvertible {
    public var symbolId: UInt32
    public var expected: UInt64
    public var received: UInt64
    public var description: String { "gap on symbol \(symbolId): expected seq \(expected), got \(received)" }
}

/// Checks the protocol's promise per symbol: after a snapshot (or the first
/// record) every record's sequence is previous + 1 + conflatedCount.
public struct SequenceTracker: Sendable {
    private var last: [UInt32: UInt64] = [:]
    public private(set) var gaps: [SequenceGap] = []
    public private(set) var conflatedUpdates: UInt64 = 0
    public private(set) var records: UInt64 = 0

    public init() {}

    /// Returns the gap this record reveals, if any (also kept in `gaps`).
    @discardableResult
    public mutating func observe(_ tick: Tick) -> SequenceGap? {
        records += 1
        conflatedUpdates += UInt64(tick.conflatedCount)
        defer { last[tick.symbolId] = tick.sequence }
        guard !tick.flags.contains(.snapshot), let previous = last[tick.symbolId] else { return nil }
        let expected = SequenceRule.expected(after: previous, conflatedCount: tick.conflatedCount)
        guard tick.sequence != expected else { return nil }
        let gap = SequenceGap(symbolId: tick.symbolId, expected: expected, received: tick.sequence)
        gaps.append(gap)
        return gap
    }

    /// Forget a symbol (after unsubscribing): its next record starts afresh.
    public mutating func reset(symbolId: UInt32) { last[symbolId] = nil }

    public func lastSequence(of symbolId: UInt32) -> UInt64? { last[symbolId] }
}
