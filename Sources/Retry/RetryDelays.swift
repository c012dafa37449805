import SplitMix

/// The waits of one link that retries on its own (the Redis connection): the
/// failed attempts since the last success and a seeded jitter source, over one
/// `ExponentialBackoff`. Seeded, so tests are exact; give each link its own
/// seed (the default is the clock) so a fleet does not retry in lockstep.
public struct RetryDelays: Sendable {
    public let backoff: ExponentialBackoff
    /// Failed attempts since the last success.
    public private(set) var attempt = 0
    private var random: SplitMix64

    public init(_ backoff: ExponentialBackoff, seed: UInt64) {
        self.backoff = backoff
        random = SplitMix64(seed: seed)
    }

    /// The step before jitter for the current attempt.
    public var stepNanos: UInt64 { backoff.baseNanos(attempt: attempt) }

    /// The delay before the next attempt; counts the attempt.
    public mutating func nextDelayNanos() -> UInt64 {
        defer { attempt += 1 }
        return backoff.delayNanos(attempt: attempt, using: &random)
    }

    /// A connection succeeded: the next failure starts from the initial delay again.
    public mutating func reset() { attempt = 0 }
}
