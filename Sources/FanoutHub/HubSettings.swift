/// How ticks are framed for a connection.
public enum DeliveryMode: String, Sendable, CaseIterable {
    /// All of a connection's pending ticks in one binary message per flush:
    /// the fewest bytes and syscalls, the default.
    case batched = "batch"
    /// One binary message per tick, pre-encoded once per tick and copied to
    /// every subscriber: for clients that want a message per update.
    case perTick = "message"
}

/// What one loop's hub is built with: its backlog rules, its delivery mode
/// and its retained history.
public struct HubSettings: Sendable {
    /// When a connection conflates, and what it may hold (`BacklogPolicy`).
    public var backlog = BacklogPolicy()
    public var delivery: DeliveryMode = .batched
    /// How long each loop keeps what it published for `subscribe` with
    /// `from` (0: no history, every resume is a reset). 10 s covers a
    /// network change or a node restart behind a load balancer.
    public var retentionNanos: UInt64 = 10_000_000_000
    /// Hard cap on retained ticks per loop whatever the feed rate: a feed
    /// faster than the machine must not grow the history without end.
    public var maxRetainedTicks = 640_000

    public init() {}
}
