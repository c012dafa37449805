import FanoutHub
import PosixIO

/// Every overload threshold of the server in one value, each with its
/// reason: when the server skips, folds, conflates, paces, refuses or
/// closes. It rides in `ServerConfig.overload`; the types that apply a rule
/// read it from there, `ticker serve --help` prints the configurable ones'
/// defaults from `OverloadPolicy()`, and docs/ARCHITECTURE.md ("Overload")
/// lists each rule once with the type that applies it.
///
/// Freshness is the measure: a client reads data at most about a second old,
/// or is told what it skipped. Every queue has a bound and a policy.
public struct OverloadPolicy: Sendable {
    // MARK: feed and loop inboxes

    /// A feed batch covers at most this much model time (or two feed
    /// periods): further behind, the feed skips ahead rather than bursting.
    public var feedMaxBehind = Nanoseconds.milliseconds(50)
    /// A feed batch holds at most this many ticks (a feed faster than the machine).
    public var feedMaxTicksPerBatch = 16_384
    /// Ticks a loop's inbox holds before it folds the oldest batches to the
    /// newest tick per symbol (declared conflated): a loop that falls behind
    /// does bounded work per round.
    public var maxPendingTicksPerLoop = 4_096
    /// A loop whose last round started this late folds every batch on
    /// arrival, so its next round is at most one record per symbol:
    /// freshness before completeness.
    public var inboxLateness = Nanoseconds.milliseconds(50)
    /// `/healthz` says degraded (and `/readyz` 503) when a loop's oldest
    /// waiting batch is older than this: half the one-second freshness goal.
    public var maxLag = Nanoseconds.milliseconds(500)

    // MARK: rounds and flushes

    /// A round waits while light connections of earlier rounds are still
    /// unwritten, up to this long after the last round began: readers that
    /// keep up get their ticks before more pile on.
    public var maxRoundDeferral = Nanoseconds.milliseconds(100)
    /// A loop writes for at most this before it looks at its sockets again:
    /// ingest, handshakes and other batches never wait for a whole pass.
    public var flushSlice = Nanoseconds.milliseconds(1)
    /// A queue at most this long after a round is light and flushed before
    /// the heavy ones (shortest job first).
    public var lightQueueBytes = 16 * 1024
    /// Rounds whose writes took less than this never pace: a round to a few
    /// hundred sockets goes out at once.
    public var pacedWriteMinimum = Nanoseconds.milliseconds(1)
    /// A paced round starts this many times the last round's writing time
    /// after the last began: sends take at most about half the loop's time.
    public var pacingStretch: UInt64 = 2
    /// The longest interval between two paced rounds, well inside `inboxLateness`.
    public var pacedIntervalMaximum = Nanoseconds.milliseconds(25)

    // MARK: each connection

    /// The hub's rules: conflation marks and age, symbols per connection,
    /// fold budget, and the per-connection memory cap (close 1008).
    public var backlog = BacklogPolicy()
    /// Bytes the kernel may hold unsent per connection (TCP_NOTSENT_LOWAT;
    /// 0: the kernel's): a slow reader's backlog stays in user space, where
    /// the rules above see it, instead of megabytes hidden by autotuning.
    public var notSentLowWaterBytes = 4 * 1024
    /// A WebSocket whose queue has not emptied for this long has stopped
    /// reading: closed with 4001, the close frame sent next.
    public var slowConsumerTimeout = Nanoseconds.seconds(10)
    /// Control messages one connection may send per second (token bucket,
    /// burst of the same size): more get `rate_limited`.
    public var maxMessagesPerSecond = 50
    /// Refused requests (in multiples of the rate) since the bucket was last
    /// full that close the connection with 1008: a client that ignores
    /// `rate_limited` is flooding, not retrying.
    public var abusiveRefusalFactor = 10

    // MARK: admission

    /// New connections accepted per second by the process, split across the
    /// loops: a reconnect storm is admitted at a pace that leaves the loops
    /// time for fan-out; the rest wait in the listen backlog.
    public var acceptsPerSecond = 60_000
    /// The accept bucket holds this much of its rate (a quarter second).
    public var acceptBurst = Nanoseconds.milliseconds(250)
    /// WebSocket upgrades one loop performs per `upgradeWindow`; past it an
    /// upgrade is parked and done in arrival order, so a connect burst's
    /// handshakes never delay probes or `/metrics`.
    public var upgradesPerWindow = 64
    public var upgradeWindow = Nanoseconds.milliseconds(5)
    /// Connections per process, below the fd limit: accept never fails for
    /// want of a descriptor the server itself needs. Past it, 503.
    public var maxConnections = 19_000
    /// Connections past `maxConnections` still read, so they get a 503 with
    /// `Retry-After` (and probes an answer); beyond these, closed at accept.
    public var overCapacityReserve = 256
    /// Connections one peer address may hold (0: no limit; 429): one client
    /// cannot take every slot. Behind a proxy, raise it or trust the proxy.
    public var maxConnectionsPerAddress = 4_096
    /// A connection accepted only to be refused (503, 429) has at most this
    /// long to send its request head (or the handshake timeout, if shorter):
    /// refusals must not hold descriptors for long.
    public var refusedHandshakeTimeout = Nanoseconds.seconds(1)

    // MARK: scale-out

    /// Batches a feed node keeps for Redis while the link is down; past it
    /// the oldest are dropped and gateways declare the jump (conflated).
    public var redisMaxPendingBatches = 4_096

    // MARK: shutdown

    /// After SIGTERM's close 1001, connections have this long to finish.
    public var drainTimeout = Nanoseconds.seconds(2)
    /// The process exits this long after the drain deadline whatever a loop
    /// is doing (the loops close leftovers first).
    public var drainExitGrace = Nanoseconds.milliseconds(400)

    public init() {}
}
