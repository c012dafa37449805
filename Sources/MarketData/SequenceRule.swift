/// The protocol's no-silent-loss promise, in one place: after a record with
/// sequence `previous`, the next record of the same symbol carries
/// `previous + 1 + conflatedCount` (a snapshot instead starts a new baseline).
/// Clients, tests and the benchmark all check exactly this.
public enum SequenceRule {
    @inline(__always)
    public static func expected(after previous: UInt64, conflatedCount: UInt32) -> UInt64 {
        previous &+ 1 &+ UInt64(conflatedCount)
    }
}
