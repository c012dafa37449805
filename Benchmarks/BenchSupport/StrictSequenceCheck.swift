import MarketData

/// The protocol's sequence rule checked to the letter, flags included, as
/// the fault suite states it: per symbol, the first record is the baseline;
/// after it every record is either `last + 1`, or flagged *conflated* with
/// `conflatedCount == seq - last - 1`, or flagged *snapshot* (a new
/// baseline). Anything else is a violation. Stricter than `SequenceLedger`,
/// which accepts a jump declared by the count even without the flag.
public struct StrictSequenceCheck: Sendable {
    public enum Violation: String, Sendable, CaseIterable {
        /// A jump forward with no conflated flag (silent loss).
        case gap
        /// Flagged conflated, but the count does not match the jump.
        case countMismatch
        /// A non-zero conflated count on a record not flagged conflated.
        case unflaggedCount
        case duplicate
        case reordered
        /// Symbol id outside the universe.
        case unknownSymbol
    }

    public enum Verdict: Equatable, Sendable {
        case baseline, next, conflated
        case violation(Violation)
    }

    /// Per symbol: last sequence seen, or `none` before the first record.
    private var last: [UInt64]
    private static let none = UInt64.max
    public private(set) var records = 0
    public private(set) var snapshots = 0
    public private(set) var conflatedRecords = 0
    /// Updates the conflated records declared they replaced.
    public private(set) var swallowed: UInt64 = 0
    public private(set) var violations = 0
    public private(set) var byKind: [Violation: Int] = [:]
    /// The first violation, described, for the report.
    public private(set) var firstViolation: String?

    public init(symbolCount: Int) {
        last = Array(repeating: Self.none, count: symbolCount)
    }

    public static let snapshotFlag: UInt8 = TickFlags.snapshot.rawValue
    public static let conflatedFlag: UInt8 = TickFlags.conflated.rawValue

    @discardableResult
    public mutating func check(symbol: Int, sequence: UInt64, flags: UInt8, conflatedCount: UInt32) -> Verdict {
        records += 1
        let isSnapshot = flags & Self.snapshotFlag != 0
        let isConflated = flags & Self.conflatedFlag != 0
        if isSnapshot { snapshots += 1 }
        if isConflated {
            conflatedRecords += 1
            swallowed += UInt64(conflatedCount)
        }
        guard symbol >= 0 && symbol < last.count else {
            return fail(.unknownSymbol, "symbol \(symbol) outside 0..<\(last.count)")
        }
        let previous = last[symbol]
        if previous == Self.none || isSnapshot {
            last[symbol] = sequence
            return .baseline
        }
        if sequence == previous &+ 1 && conflatedCount == 0 {
            last[symbol] = sequence
            return .next
        }
        if isConflated && sequence == SequenceRule.expected(after: previous, conflatedCount: conflatedCount) {
            last[symbol] = sequence
            return .conflated
        }
        let what = "symbol \(symbol): seq \(sequence) after \(previous), flags \(flags), conflatedCount \(conflatedCount)"
        if sequence == previous { return fail(.duplicate, what) }
        if sequence < previous { return fail(.reordered, what) }
        // Forward jump: resynchronise on it so one loss is counted once.
        last[symbol] = sequence
        if isConflated { return fail(.countMismatch, what) }
        if conflatedCount != 0 && sequence == SequenceRule.expected(after: previous, conflatedCount: conflatedCount) {
            return fail(.unflaggedCount, what)
        }
        return fail(.gap, what)
    }

    private mutating func fail(_ kind: Violation, _ what: String) -> Verdict {
        violations += 1
        byKind[kind, default: 0] += 1
        if firstViolation == nil { firstViolation = "\(kind.rawValue): \(what)" }
        return .violation(kind)
    }

    /// Adds another checker's counts (per-symbol state is not merged).
    public mutating func absorbCounts(_ other: StrictSequenceCheck) {
        records += other.records
        snapshots += other.snapshots
        conflatedRecords += other.conflatedRecords
        swallowed += other.swallowed
        violations += other.violations
        for (k, v) in other.byKind { byKind[k, default: 0] += v }
        if firstViolation == nil { firstViolation = other.firstViolation }
    }

    /// "0" or "3 (gap 2, duplicate 1); first: ...".
    public var violationSummary: String {
        guard violations > 0 else { return "0" }
        let kinds = Violation.allCases.compactMap { k in byKind[k].map { "\(k.rawValue) \($0)" } }.joined(separator: ", ")
        return "\(violations) (\(kinds)); first: \(firstViolation ?? "?")"
    }
}
