import FanoutHub
import Foundation
import PosixIO
import ScaleOut
import RedisClient

/// Everything `ticker serve` can be told. Each limit carries its reason.
public struct ServerConfig: Sendable {
    public var host = "127.0.0.1"
    /// 8080 is the conventional unprivileged HTTP port; 0 picks a free one (tests).
    public var port: UInt16 = 8080
    /// One epoll loop per core: each connection lives on one loop, so loops
    /// never contend, and more loops than cores only adds context switches.
    public var loops = ServerConfig.defaultLoopCount
    /// CSV universe; nil means the default universe compiled into the binary (`Sources/TickerServer/Universe/symbols.csv`).
    public var symbolsPath: String?
    public var seed: UInt64 = 42
    /// Mean time between two ticks of one symbol, in milliseconds.
    public var meanIntervalMs: Double = 10
    /// How often the feed thread wakes to publish a batch: 1 ms keeps the
    /// added latency under a millisecond while amortising the hand-off.
    public var feedPeriodMs: Double = 1
    /// Run the simulated feed (off when ticks come only from /v1/publish).
    public var simulatedFeed = true

    /// Every overload threshold, with its reason (`OverloadPolicy`).
    public var overload = OverloadPolicy()
    /// What each loop's hub is built with: delivery and retention stored
    /// here, the backlog rules in `overload` (one home for each).
    public var hub: HubSettings {
        get { var settings = hubRest; settings.backlog = overload.backlog; return settings }
        set { hubRest = newValue; overload.backlog = newValue.backlog }
    }
    private var hubRest = HubSettings()
    /// Names this process's sequence space in `welcome` (resume checks it);
    /// nil picks a random one at start, since a restarted feed starts its
    /// sequences over. A cluster whose nodes share one feed would set the
    /// feed's epoch here.
    public var epoch: UInt64?

    /// A whole HTTP request head must arrive within this, whatever its pace
    /// (slowloris defence): an absolute deadline, not an idle timer.
    public var handshakeTimeoutMs = 10_000
    public var maxHeaderBytes = 8 * 1024
    public var maxHeaderCount = 100
    /// The server pings this often; a peer that has not answered the previous
    /// ping by the next deadline is closed (4002), freeing a half-open socket.
    public var heartbeatIntervalMs = 15_000
    public var pongTimeoutMs = 10_000
    /// After we send a close frame, the peer has this long to answer before
    /// the TCP connection is dropped.
    public var closeTimeoutMs = 2_000
    /// Inbound control messages are small JSON; 64 KiB leaves room for a
    /// subscribe listing every symbol and nothing more.
    public var maxInboundMessageBytes = 64 * 1024
    /// Allowed `Origin` values for browser upgrades; nil accepts any.
    public var allowedOrigins: Set<String>?
    /// Serve `/echo` (16 MiB messages) for conformance tests; off in production.
    public var enableEcho = false
    /// Shared secret for `/v1/publish`; nil disables ingest (unless auth is on).
    public var publishToken: String?
    /// Auth: HS256 keys, one `KID:BASE64SECRET` per line (re-read on
    /// SIGHUP); nil: no tokens, everything open as before.
    public var authKeysPath: String?
    /// Auth: subjects whose connections are closed and refused (one per
    /// line; re-read on SIGHUP).
    public var revokedPath: String?
    /// A gateway takes no `/v1/publish`: publishers go to the feed node.
    var acceptsIngest: Bool {
        if case .gateway = redis { false } else { true }
    }
    /// Reverse proxies whose `X-Forwarded-For` / `X-Real-IP` name the client:
    /// their connections are not counted per address at accept; the upgrade
    /// counts the forwarded client instead (and logs name it).
    public var trustedProxies = ProxyTrust()
    /// A second port, on `host`, serving only `/healthz` and `/metrics` from a
    /// thread of its own (`AdminServer`): probes there never queue behind a
    /// connect storm in the main port's accept queue. nil: off; 0: any free port.
    public var adminPort: UInt16?
    /// SO_SNDBUF for accepted sockets; nil lets the kernel autotune. Smaller
    /// values bound the kernel memory a stuck client can pin.
    public var socketSendBufferBytes: Int?
    /// Flush each loop's connections in batches through io_uring, one
    /// `io_uring_enter` per batch instead of one `sendmsg` per connection,
    /// which costs less server CPU per delivered tick (docs/ARCHITECTURE.md,
    /// "What was measured"). Falls back to `sendmsg` where io_uring
    /// is unavailable (old kernel, sysctl, seccomp).
    public var ioUring = true
    /// Connections flushed per `io_uring_enter` (light ones; heavy ones go
    /// 8 at a time so a batch stays inside the flush slice).
    public var ioUringBatch = 64

    /// Scale-out through Redis (docs/DEPLOYMENT.md): a feed node writes every batch
    /// to Redis, a gateway reads them instead of running a feed. nil: single node.
    public var redis: RedisRole?
    /// Key names, shard count and retained window of the Redis layout.
    public var redisLayout = TickStreamLayout()

    public init() {}

    public static var defaultLoopCount: Int {
        // The affinity mask, not the machine's count: a server pinned to one
        // core (taskset) with two loops would only add context switches.
        max(1, min(64, ProcessStats.availableCPUs() ?? ProcessInfo.processInfo.activeProcessorCount))
    }
}

/// What a node does with Redis.
public enum RedisRole: Sendable, Equatable {
    /// `ticker feed`: the sequence authority; writes its batches to the streams.
    case feed(RedisURL)
    /// `ticker serve --redis`: no local feed; reads the streams.
    case gateway(RedisURL)
}
