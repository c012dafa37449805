/// Test helper: the same input cut in every way that matters to an incremental decoder.

/// SplitMix64: a tiny seeded generator so "random" chunkings are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum SplitFeeding {
    static let seeds: [UInt64] = [1, 7, 42, 1234, 0xDEAD_BEEF]

    /// All at once, one byte at a time, and random chunk sizes (1...max) per seed.
    static func chunkings(of bytes: [UInt8], maxChunk: Int = 17) -> [(name: String, chunks: [[UInt8]])] {
        var result: [(String, [[UInt8]])] = [("whole", [bytes])]
        result.append(("byte-by-byte", bytes.map { [$0] }))
        for seed in seeds {
            var generator = SeededGenerator(seed: seed)
            var chunks: [[UInt8]] = []
            var index = 0
            while index < bytes.count {
                let size = Int.random(in: 1...maxChunk, using: &generator)
                let end = min(bytes.count, index + size)
                chunks.append(Array(bytes[index..<end]))
                index = end
            }
            result.append(("seed \(seed)", chunks))
        }
        return result
    }
}
