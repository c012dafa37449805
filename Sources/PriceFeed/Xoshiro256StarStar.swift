import SplitMix
/// xoshiro256** 1.0 (Blackman & Vigna, "Scrambled linear pseudorandom number
/// generators", 2018). Chosen over the stdlib's SystemRandomNumberGenerator
/// because the feed must be reproducible from a seed, and over simpler LCGs
/// because it passes BigCrush while costing a handful of ALU ops.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    public private(set) var s0: UInt64
    public private(set) var s1: UInt64
    public private(set) var s2: UInt64
    public private(set) var s3: UInt64

    /// Seeds the state with four consecutive SplitMix64 outputs of `seed`.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        self.init(seeding: &mixer)
    }

    /// Draws the state from an existing SplitMix64 stream, so one master seed
    /// can hand independent-looking generators to many consumers.
    public init(seeding mixer: inout SplitMix64) {
        self.init(state: (mixer.next(), mixer.next(), mixer.next(), mixer.next()))
    }

    /// Raw state, for reference vectors. The all-zero state is a fixed point
    /// of the algorithm and is therefore rejected.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
        (s0, s1, s2, s3) = state
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}
