/// Exponential back-off with jitter: how long to wait before retry attempt
/// `n` (0 = the first after a loss). The one back-off of the project: the
/// Swift client's reconnects (`TickerClient.Backoff` is this type) and the
/// Redis link's (`RetryDelays`). Pure: the caller supplies the random draw,
/// so tests pin every delay.
///
/// Why jitter: when a server (or Redis) restarts, everything it served loses
/// its connection at the same instant; without jitter all of it would come
/// back in the same millisecond, every time (a thundering herd). The delay is
/// drawn from `[base × (1 - jitter), base]` where `base` doubles per failed
/// attempt up to `maxNanos`. The default `jitter` of 0.5 is "equal jitter":
/// no attempt comes sooner than half its step.
public struct ExponentialBackoff: Sendable, Equatable {
    /// 100 ms: a restarted server is usually back within a few hundred.
    public var initialNanos: UInt64 = 100_000_000
    /// 10 s: long enough not to hammer a node that is down, short enough
    /// that a client is back soon after it returns.
    public var maxNanos: UInt64 = 10_000_000_000
    public var multiplier: Double = 2
    /// Fraction of the delay that is random (0: none, 1: "full jitter").
    public var jitter: Double = 0.5

    public init(initialNanos: UInt64 = 100_000_000, maxNanos: UInt64 = 10_000_000_000,
                multiplier: Double = 2, jitter: Double = 0.5) {
        self.initialNanos = max(1, initialNanos)
        self.maxNanos = max(self.initialNanos, maxNanos)
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
    }

    /// The ceiling of attempt `attempt`'s delay, before jitter.
    public func baseNanos(attempt: Int) -> UInt64 {
        var base = Double(initialNanos)
        for _ in 0..<max(0, attempt) {
            base *= multiplier
            if base >= Double(maxNanos) { return maxNanos }
        }
        return min(maxNanos, Self.nanos(base))
    }

    /// The delay for `attempt`, given a uniform draw `unit` in [0, 1).
    public func delayNanos(attempt: Int, unit: Double) -> UInt64 {
        let base = baseNanos(attempt: attempt)
        let u = min(max(unit, 0), 1)
        return min(base, Self.nanos(Double(base) * (1 - jitter * u)))
    }

    /// The delay for `attempt`, the draw taken from `random`.
    public func delayNanos(attempt: Int, using random: inout some RandomNumberGenerator) -> UInt64 {
        delayNanos(attempt: attempt, unit: Double(random.next() >> 11) / Double(UInt64(1) << 53))
    }

    /// A Double of nanoseconds as UInt64, saturating (2^64 itself is a Double).
    private static func nanos(_ value: Double) -> UInt64 {
        value >= Double(UInt64.max) ? .max : UInt64(max(0, value))
    }
}
