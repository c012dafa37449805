import CMath

/// Our own uniform/exponential transforms instead of `Double.random(in:)`:
/// the stdlib does not promise a stable algorithm across releases, and the
/// feed promises identical output for identical seeds.
extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 53 random bits (the top bits, which are the
    /// strongest in xoshiro256**).
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Exponential with the given mean, by inversion; `1 - u` is in (0, 1]
    /// so the logarithm is always finite.
    public mutating func nextExponential(mean: Double) -> Double {
        -mean * ticker_log(1 - nextUnitDouble())
    }

    /// Uniform integer in 0..<bound by multiply-shift (Lemire). The
    /// remaining bias is below 2^-32 for the tiny bounds used here.
    public mutating func nextBelow(_ bound: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: ((next() >> 32) &* UInt64(bound)) >> 32)
    }
}
