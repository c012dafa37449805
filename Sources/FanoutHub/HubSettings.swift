/// How ticks are framed for a connection.
public enum DeliveryMode: String, Sendable, CaseIterable {
    /// All of a connection's pending ticks in one binary message per flush:
    /// the fewest bytes and syscalls, the default.
    case batched = "batch"
    /// One binary message per tick, pre-encoded once per tick and copied to
    /// every subscriber: for clients that want a message per update.
    case perTick = "message"
}

/// Per-connection fan-out limits. Each has a one-line reason.
public struct HubSettings: Sendable {
    /// Past this many queued bytes a connection is conflated: it keeps only the
    /// newest tick per symbol. 256 KiB is ~4,000 records, several seconds of
    /// a busy symbol set, so only a client that has stopped reading hits it.
    public var highWaterMark = 256 * 1024
    /// Conflation ends (and the conflated ticks are sent) once the queue has
    /// drained below this, so a client hovering at the mark does not flap.
    public var lowWaterMark = 64 * 1024
    /// Past this age of its oldest queued byte a connection is conflated too,
    /// whatever the byte count: a client reading at a third of its stream's
    /// rate would otherwise read data that is seconds old long before the
    /// byte mark is reached. A quarter second leaves room for the kernel's
    /// own (bounded) send queue within the one-second freshness goal.
    public var maxBacklogAgeNanos: UInt64 = 250_000_000
    /// Symbols one connection may hold; bounds the per-connection conflation slots.
    public var maxSymbolsPerConnection = 1024
    public var delivery: DeliveryMode = .batched
    /// How long each loop keeps what it published for `subscribe` with
    /// `from` (0: no history, every resume is a reset). 10 s covers a
    /// network change or a node restart behind a load balancer; at the
    /// default feed (520 symbols, 10 ms mean interval: ~52,000 ticks/s) it
    /// holds ~520,000 ticks, ~93 MiB of RSS (measured, docs/ARCHITECTURE.md).
    public var retentionNanos: UInt64 = 10_000_000_000
    /// Hard cap on retained ticks per loop whatever the feed rate (a feed
    /// faster than the machine must not grow the history without end):
    /// 640,000 ≈ 12 s of the default feed, ~116 MiB at ~190 bytes a tick.
    public var maxRetainedTicks = 640_000

    public init() {}

    /// Worst-case bytes one connection can hold in its queue plus slots:
    /// what "memory per connection stays bounded" means in numbers. The
    /// queue stops taking ticks at the high-water mark but its last chunk may
    /// be partly filled and one drained chunk is kept for reuse (2 chunks);
    /// each conflation slot costs a tick plus its index entry (~96 bytes); the
    /// dense slot index is 4 bytes per universe symbol (the 4 KiB term covers
    /// the built-in 520; larger universes add 4 bytes per symbol).
    public var perConnectionCap: Int {
        highWaterMark + 2 * OutboundQueue.chunkSize + maxSymbolsPerConnection * 96 + 4 * 1024
    }
}
