import MarketData

/// One connection's side of the hub: what it subscribed to, the conflation
/// slots it uses while it cannot keep up, and the outbox it writes ticks
/// through (a concrete final class: no dynamic call per tick and subscriber).
/// Confined to the connection's event loop.
public final class Subscriber {
    /// The connection's byte stream; the subscriber only writes tick
    /// messages into it (`TickMessageWriter`).
    public let outbox: Outbox
    /// The outbox's queue, held here too: the per-pair byte-mark check then
    /// loads one pointer, not two.
    unowned(unsafe) let queue: OutboundQueue
    /// Slot in the hub's table; -1 when not attached.
    public internal(set) var hubIndex = -1
    /// Symbol ids subscribed, in subscription order.
    public internal(set) var symbols: [UInt32] = []
    var symbolSet: Set<UInt32> = []

    /// True while behind: new ticks go to `slotTicks`, not the outbox.
    public internal(set) var isConflating = false
    /// Monotonic time conflation last started (or the backlog was last
    /// folded): the age rule waits a full period after it before folding again.
    public internal(set) var conflatingSinceNanos: UInt64 = 0
    /// Newest tick per symbol while conflating, in first-conflated order.
    var slotTicks: [Tick] = []
    /// Symbol id → index in `slotTicks` (-1: none). Dense, allocated only
    /// while slots are in use (4 bytes per symbol of the universe): a
    /// dictionary here costs a hash per conflated tick.
    var slotOf: [Int32] = []
    var touchedEpoch: UInt64 = 0

    /// Updates this connection has had swallowed by conflation, ever.
    public internal(set) var conflatedTotal: UInt64 = 0

    public init(outbox: Outbox) {
        self.outbox = outbox
        queue = outbox.queue
    }

    public func isSubscribed(_ symbolId: UInt32) -> Bool { symbolSet.contains(symbolId) }
    public var subscriptionCount: Int { symbols.count }
    /// Nothing subscribed, nothing held in slots: the connection may drop it.
    public var isIdle: Bool { symbols.isEmpty && !isConflating }
}
