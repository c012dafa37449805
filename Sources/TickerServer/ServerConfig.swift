import FanoutHub
import Foundation

/// Everything `ticker serve` can be told. Each limit carries its reason.
public struct ServerConfig: Sendable {
    public var host = "127.0.0.1"
    /// 8080 is the conventional unprivileged HTTP port; 0 picks a free one (tests).
    public var port: UInt16 = 8080
    /// One epoll loop per core: each connection lives on one loop, so loops
    /// never contend, and more loops than cores only adds context switches.
    public var loops = ServerConfig.defaultLoopCount
    /// CSV universe; nil means the bundled `Fixtures/symbols.csv` (searched near the executable and the working directory).
    public var symbolsPath: String?
    public var seed: UInt64 = 42
    /// Mean time between two ticks of one symbol, in milliseconds.
    public var meanIntervalMs: Double = 10
    /// How often the feed thread wakes to publish a batch: 1 ms keeps the
    /// added latency under a millisecond while amortising the hand-off.
    public var feedPeriodMs: Double = 1
    /// Run the simulated feed (off when ticks come only from /v1/publish).
    public var simulatedFeed = true

    public var hub = HubSettings()

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
    /// A connection conflated (over the high-water mark) for this long has
    /// stopped reading: it is closed with 4001 so it holds nothing forever.
    public var slowConsumerTimeoutMs = 10_000
    /// Control messages one connection may send per second (token bucket,
    /// burst of the same size); beyond it requests get `rate_limited`, and a
    /// client that keeps going at 10x is closed with 1008.
    public var maxMessagesPerSecond = 50
    /// Inbound control messages are small JSON; 64 KiB leaves room for a
    /// subscribe listing every symbol and nothing more.
    public var maxInboundMessageBytes = 64 * 1024
    /// Allowed `Origin` values for browser upgrades; nil accepts any.
    public var allowedOrigins: Set<String>?
    /// Serve `/echo` (16 MiB messages) for conformance tests; off in production.
    public var enableEcho = false
    /// Shared secret for `/v1/publish`; nil disables ingest.
    public var publishToken: String?
    /// On SIGTERM, connections get close 1001 and this long to finish.
    public var drainTimeoutMs = 2_000
    /// Cap on connections per process, below the fd limit so that accept
    /// never fails for want of a descriptor the server itself needs.
    public var maxConnections = 19_000
    /// SO_SNDBUF for accepted sockets; nil lets the kernel autotune. Smaller
    /// values bound the kernel memory a stuck client can pin.
    public var socketSendBufferBytes: Int?

    public init() {}

    public static var defaultLoopCount: Int {
        max(1, min(64, ProcessInfo.processInfo.activeProcessorCount))
    }
}
