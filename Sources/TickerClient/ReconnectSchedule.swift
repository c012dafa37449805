import Retry

/// Which server to try next, and when: the URL failover and back-off of a
/// reconnecting client, as a pure state machine over an injected clock
/// (monotonic nanoseconds) and random source.
///
/// Rules:
/// - Every failed attempt (refused, timed out, closed before the
///   subscription was acknowledged) moves on to the next URL of the list, so
///   a dead node is skipped at once; the wait before that attempt is
///   `backoff.delayNanos(attempt: failures - 1)`, so a whole cluster that is
///   down is retried ever more slowly, up to the back-off's maximum.
/// - A session that got as far as an acknowledged subscription resets the
///   count, and its URL stays the first one tried when it is lost.
public struct ReconnectSchedule<Random: RandomNumberGenerator> {
    public let urls: [TickerURL]
    public let backoff: Backoff
    public private(set) var current = 0
    /// Failed attempts since the last good session.
    public private(set) var failures = 0
    private var random: Random

    public init(urls: [TickerURL], backoff: Backoff, random: Random) {
        precondition(!urls.isEmpty, "a client needs at least one URL")
        self.urls = urls
        self.backoff = backoff
        self.random = random
    }

    public var currentURL: TickerURL { urls[current] }

    /// A good session ended (it had been subscribed): retry the same URL
    /// after the first, short, jittered delay. Returns when to connect.
    public mutating func sessionLost(now: UInt64) -> UInt64 {
        failures = 0
        return now &+ nextDelay(attempt: 0)
    }

    /// An attempt failed: fail over to the next URL, later the more attempts
    /// have failed in a row. Returns when to connect.
    public mutating func attemptFailed(now: UInt64) -> UInt64 {
        failures += 1
        current = (current + 1) % urls.count
        return now &+ nextDelay(attempt: failures - 1)
    }

    /// The session is established and subscribed.
    public mutating func sessionEstablished() { failures = 0 }

    private mutating func nextDelay(attempt: Int) -> UInt64 {
        backoff.delayNanos(attempt: attempt, using: &random)
    }
}
