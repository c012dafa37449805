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
    /// loads one pointer, not two. Read it, never pass it: an unowned(unsafe)
    /// reference handed to a call is retained and released around it (per
    /// pair, +12% instructions in `TickerBench hubwork`); pass `outbox.queue`.
    unowned(unsafe) let queue: OutboundQueue
    /// Slot in the hub's table; -1 when not attached.
    public internal(set) var hubIndex = -1
    /// Symbol ids subscribed, in subscription order.
    public internal(set) var symbols: [UInt32] = []
    var symbolSet: Set<UInt32> = []
    /// The symbols delivered tick by tick (interval 0): what the round's
    /// subscriber-by-subscriber walk reads. Throttled symbols are in
    /// `symbols` but not here (their class samples them).
    var liveSymbols: [UInt32] = []
    /// Throttled symbols only: symbol id → interval in ms. Empty for a
    /// connection that uses no interval.
    public internal(set) var intervals: [UInt32: Int] = [:]
    /// Per-subscriber exceptions of its interval classes: throttled symbols
    /// whose last record queued to this subscriber is not its class's
    /// previous sample (a snapshot, a resume, a move between intervals),
    /// with that record's sequence. Settled by the class's next sample of
    /// the symbol, so it holds at most the symbols changed since then.
    var throttleBase: [UInt32: UInt64] = [:]

    /// Asked for the delta encoding (`?encoding=delta`).
    public let wantsDelta: Bool
    /// Receives delta messages: asked for them, and the hub batches
    /// (one-tick-per-message delivery is raw). Set by `LoopHub.attach`.
    public internal(set) var isDelta = false
    /// Delta only: per symbol, the sequence of the last record queued to
    /// this subscriber (0: none), so a live record goes out as the loop's
    /// shared delta when that record is the delta's reference, else as a
    /// keyframe. Dense (8 bytes per symbol of the universe), allocated at attach.
    var deltaSent: [UInt64] = []
    /// Delta only: the symbols `foldDeltaBacklog` slotted in round (or
    /// sample) `foldSeedEpoch`, whose later ticks in it are older.
    var foldSeeded: Set<UInt32> = []
    var foldSeedEpoch: UInt64 = .max

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

    public init(outbox: Outbox, delta: Bool = false) {
        self.outbox = outbox
        queue = outbox.queue
        wantsDelta = delta
    }

    public func isSubscribed(_ symbolId: UInt32) -> Bool { symbolSet.contains(symbolId) }
    /// The symbol's interval in ms: 0 for every tick (or not subscribed).
    public func interval(of symbolId: UInt32) -> Int { intervals[symbolId] ?? 0 }
    public var subscriptionCount: Int { symbols.count }
    /// Nothing subscribed, nothing held in slots: the connection may drop it.
    public var isIdle: Bool { symbols.isEmpty && !isConflating }
}

/// A per-symbol list of subscribers (the hub's live index, an interval
/// class's members): order does not matter, so removal swaps in the last.
extension Array where Element == Unmanaged<Subscriber> {
    /// Removes `s`; false when it was not listed.
    @discardableResult
    mutating func removeSubscriber(_ s: Subscriber) -> Bool {
        let me = Unmanaged.passUnretained(s).toOpaque()
        guard let at = firstIndex(where: { $0.toOpaque() == me }) else { return false }
        swapAt(at, count - 1)
        removeLast()
        return true
    }
}
