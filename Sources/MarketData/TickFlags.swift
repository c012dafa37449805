/// Per-record flags. Kept as raw bits (not an enum) so a future server can
/// add bits without breaking older decoders: unknown bits survive a round trip.
public struct TickFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The record restates the symbol's latest state (sent on subscribe), so a
    /// client must reset its sequence expectation instead of flagging a gap.
    public static let snapshot = TickFlags(rawValue: 1 << 0)

    /// The record replaced `conflatedCount` older updates that a slow reader
    /// never saw; the sequence jump is intentional, not a loss.
    public static let conflated = TickFlags(rawValue: 1 << 1)
}
