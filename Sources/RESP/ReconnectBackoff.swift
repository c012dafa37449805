/// Delays between reconnect attempts: exponential from `base` up to `cap`, with "equal
/// jitter" (half the step fixed, half random) so a fleet of gateways that lost Redis at
/// the same moment does not come back in lockstep, while no attempt comes sooner than
/// half its step. Pure: the random source is a seeded generator, so tests are exact.
public struct ReconnectBackoff: Sendable {
    public let baseNanos: UInt64
    public let capNanos: UInt64
    /// Failed attempts since the last success.
    public private(set) var attempt = 0
    private var random: SplitMix

    public init(baseNanos: UInt64 = 50_000_000, capNanos: UInt64 = 1_000_000_000, seed: UInt64) {
        self.baseNanos = max(1, baseNanos)
        self.capNanos = max(self.baseNanos, capNanos)
        random = SplitMix(state: seed)
    }

    /// The step before jitter for the current attempt: base × 2^attempt, capped.
    public var stepNanos: UInt64 {
        let shift = min(attempt, 40)
        let (scaled, overflow) = baseNanos.multipliedReportingOverflow(by: 1 << UInt64(shift))
        return overflow ? capNanos : min(capNanos, scaled)
    }

    /// The delay before the next attempt, in [step/2, step]; counts the attempt.
    public mutating func nextDelayNanos() -> UInt64 {
        let step = stepNanos
        let half = step / 2
        let jitter = half == 0 ? 0 : random.next() % (step - half + 1)
        attempt += 1
        return half + jitter
    }

    /// A connection succeeded: the next failure starts from `base` again.
    public mutating func reset() { attempt = 0 }

    /// SplitMix64 (Steele, Lea, Flood 2014): tiny and good enough for jitter.
    struct SplitMix: Sendable {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
