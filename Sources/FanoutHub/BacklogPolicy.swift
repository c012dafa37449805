/// The overload rules the hub applies to each connection's backlog: when a
/// connection conflates, when it stops, how much one round may fold, and
/// what one connection may hold. The server's `OverloadPolicy` carries this
/// value (its other rules are the server's); the hub is pure and runs alone
/// in tests and benchmarks, so these defaults live here, beside the hub.
public struct BacklogPolicy: Sendable, Equatable {
    /// Queued bytes at which a connection conflates (newest tick per symbol):
    /// ~4,000 records, seconds of a busy symbol set, so only a client that
    /// has stopped reading reaches it.
    public var highWaterMark = 256 * 1024
    /// Conflation ends (its slots go out) once the queue is below this, so a
    /// client hovering at the high-water mark does not flap.
    public var lowWaterMark = 64 * 1024
    /// Age of the oldest queued byte at which a connection conflates whatever
    /// the byte count: a reader at a third of its stream's rate would read
    /// seconds-old data long before the byte mark; a quarter second leaves
    /// the kernel's bounded send queue room inside the one-second freshness goal.
    public var maxBacklogAgeNanos: UInt64 = 250_000_000
    /// Symbols one connection may hold: bounds its conflation slots.
    public var maxSymbolsPerConnection = 1024
    /// Backlog bytes one round may fold into slots: folding thousands of
    /// connections that fall behind at once would stall the loop, so past it
    /// a connection conflates without folding and a later round folds more.
    public var foldBytesPerRound = 2 << 20

    public init() {}

    /// Worst-case bytes one connection holds in queue plus slots (past it the
    /// server closes it, 1008): the high-water mark, a partly filled last
    /// chunk and the one spare kept for reuse (2 chunks), ~96 bytes per slot
    /// (a tick and its index entry), and the dense slot index at 4 bytes per
    /// universe symbol (4 KiB covers the built-in universe).
    public var perConnectionCap: Int {
        highWaterMark + 2 * OutboundQueue.chunkSize + maxSymbolsPerConnection * 96 + 4 * 1024
    }
}
