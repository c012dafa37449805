import MarketData

/// Verifies "no silent loss" per (client, symbol): after a baseline (the
/// first record, or any snapshot) every record must be previous + 1 +
/// conflatedCount. Anything else is classified and counted.
public struct SequenceLedger: Sendable {
    public enum Verdict: Equatable, Sendable { case ok, baseline, gap, duplicate, reordered }

    private var last: [UInt64]
    public private(set) var records = 0
    public private(set) var gaps = 0
    public private(set) var missing: UInt64 = 0
    public private(set) var duplicates = 0
    public private(set) var reordered = 0
    public private(set) var conflated: UInt64 = 0

    /// `symbolCount`: ids are 0..<symbolCount.
    public init(symbolCount: Int) {
        last = Array(repeating: 0, count: symbolCount)
    }

    @discardableResult
    public mutating func record(symbol: Int, sequence: UInt64, snapshot: Bool, conflatedCount: UInt32) -> Verdict {
        records += 1
        conflated += UInt64(conflatedCount)
        let previous = last[symbol]
        if previous == 0 || snapshot {
            last[symbol] = sequence
            return .baseline
        }
        let expected = SequenceRule.expected(after: previous, conflatedCount: conflatedCount)
        if sequence == expected {
            last[symbol] = sequence
            return .ok
        }
        if sequence == previous {
            duplicates += 1
            return .duplicate
        }
        if sequence < previous {
            reordered += 1
            return .reordered
        }
        gaps += 1
        missing += sequence - expected
        last[symbol] = sequence
        return .gap
    }

    /// Symbol ids this ledger can hold (0..<symbolCapacity).
    public var symbolCapacity: Int { last.count }

    /// Last sequence seen for `symbol` (0 = none).
    public func lastSequence(_ symbol: Int) -> UInt64 { last[symbol] }

    public var isClean: Bool { gaps == 0 && duplicates == 0 && reordered == 0 }

    /// Folds another client's counts into this one (per-symbol state is not merged).
    public mutating func absorbCounts(_ other: SequenceLedger) {
        records += other.records
        gaps += other.gaps
        missing += other.missing
        duplicates += other.duplicates
        reordered += other.reordered
        conflated += other.conflated
    }
}
