import PosixIO
import RESP
import Retry

extension RedisConnection {
    public struct Options: Sendable {
        public var url: RedisURL
        /// Send `HELLO 3` (RESP3: maps, doubles, pushes). Off: RESP2 with `AUTH`.
        public var resp3: Bool
        /// `CLIENT SETNAME` (or HELLO's SETNAME), so operators can find our links in `CLIENT LIST`.
        public var clientName: String?
        public var connectTimeoutNanos: UInt64
        /// How long the oldest unanswered command may wait (blocking commands add their own block time).
        public var replyTimeoutNanos: UInt64
        /// Waits between attempts: 50 ms doubling to 1 s, equal jitter (a Redis
        /// restart is short, and a gateway without its link serves stale data).
        public var backoff: ExponentialBackoff
        public var jitterSeed: UInt64
        /// Unsent bytes above which commands are refused (`.overloaded`) rather than queued.
        public var maxOutboundBytes: Int
        public var limits: RESPLimits

        public init(url: RedisURL, resp3: Bool = false, clientName: String? = nil,
                    connectTimeoutNanos: UInt64 = 2_000_000_000, replyTimeoutNanos: UInt64 = 5_000_000_000,
                    backoff: ExponentialBackoff = ExponentialBackoff(initialNanos: 50_000_000, maxNanos: 1_000_000_000),
                    jitterSeed: UInt64 = Clock.monotonicNanos(), maxOutboundBytes: Int = 32 * 1024 * 1024,
                    limits: RESPLimits = .default) {
            self.url = url
            self.resp3 = resp3
            self.clientName = clientName
            self.connectTimeoutNanos = connectTimeoutNanos
            self.replyTimeoutNanos = replyTimeoutNanos
            self.backoff = backoff
            self.jitterSeed = jitterSeed
            self.maxOutboundBytes = maxOutboundBytes
            self.limits = limits
        }
    }

    public enum State: Equatable, Sendable {
        /// Waiting for the next attempt (`reconnectAtNanos`).
        case disconnected
        case connecting
        /// Connected; AUTH / HELLO / SELECT in flight.
        case handshaking
        case ready
        case closed
    }
}
