import MarketData

/// One connection's side of the hub: what it subscribed to, its outbound
/// queue, and the conflation slots it uses while it cannot keep up.
/// Confined to the connection's event loop.
public final class Subscriber {
    public let outbound = OutboundQueue()
    /// The owner's own index (e.g. the server's connection slot), so a
    /// touched subscriber leads back to its connection without a lookup.
    public var ownerIndex = -1
    /// Slot in the hub's table; -1 when not attached.
    public internal(set) var hubIndex = -1
    /// Symbol ids subscribed, in subscription order.
    public internal(set) var symbols: [UInt32] = []
    var symbolSet: Set<UInt32> = []

    /// True while over the high-water mark: new ticks go to `slots`.
    public internal(set) var isConflating = false
    /// Monotonic time conflation last started (or the backlog was last
    /// folded): the age rule waits a full period after it before folding again.
    public internal(set) var conflatingSinceNanos: UInt64 = 0
    /// Newest tick per symbol while conflating, in first-conflated order.
    var slotTicks: [Tick] = []
    /// Symbol id → index in `slotTicks` (-1: none). Dense, allocated only
    /// while slots are in use (4 bytes per symbol of the universe): a
    /// dictionary here was half of an overloaded loop's time (perf).
    var slotOf: [Int32] = []

    /// Open batched message in `outbound`, between the first record of a
    /// publish and `closeMessage`.
    var openHeader: UnsafeMutableRawPointer?
    var openRecords: Int32 = 0
    var touchedEpoch: UInt64 = 0

    /// Where the writer stands in the frame being written (see `FrameCursor`).
    public var cursor = FrameCursor()
    /// Monotonic time since which the queue has not been empty (0: empty at
    /// the last flush). Set by the writer; its age is how stale the oldest
    /// queued byte may be, which is what triggers conflation and, past the
    /// slow-consumer deadline, the 4001 close.
    public var backlogSinceNanos: UInt64 = 0
    /// Bytes written to the socket, ever; with `backlogMark` it moves
    /// `backlogSinceNanos` forward while a busy queue keeps draining.
    public var bytesWritten = 0
    /// Where the queue ended at `backlogMarkNanos`: once written past it,
    /// every byte still queued was queued after that time.
    public var backlogMark = 0
    public var backlogMarkNanos: UInt64 = 0

    /// Keeps `backlogSinceNanos` a lower bound of the oldest queued byte's
    /// enqueue time (so `now - backlogSinceNanos` bounds its age): the time
    /// the queue stopped being empty, moved forward each time the writer
    /// passes a mark. A queue that never quite empties but keeps draining
    /// then shows the age of its data, not of the whole busy spell.
    public func noteFlush(now: UInt64) {
        let queued = outbound.count
        if queued == 0 {
            backlogSinceNanos = 0
        } else if backlogSinceNanos == 0 {
            backlogSinceNanos = now
            backlogMark = bytesWritten + queued
            backlogMarkNanos = now
        } else if bytesWritten >= backlogMark {
            backlogSinceNanos = backlogMarkNanos
            backlogMark = bytesWritten + queued
            backlogMarkNanos = now
        }
    }

    /// Updates this connection has had swallowed by conflation, ever.
    public internal(set) var conflatedTotal: UInt64 = 0

    public init() {}

    public func isSubscribed(_ symbolId: UInt32) -> Bool { symbolSet.contains(symbolId) }
    public var subscriptionCount: Int { symbols.count }
}
