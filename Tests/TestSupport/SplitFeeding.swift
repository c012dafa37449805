import SplitMix
/// The same input cut in every way that matters to an incremental decoder:
/// all at once, one byte at a time, and random chunk sizes per seed. Shared
/// by the frame, HTTP and RESP parser tests.
public enum SplitFeeding {
    public static let seeds: [UInt64] = [1, 7, 42, 1234, 0xDEAD_BEEF]

    /// All at once, one byte at a time, and random chunk sizes (1...max) per seed.
    public static func chunkings(of bytes: [UInt8], maxChunk: Int = 17) -> [(name: String, chunks: [[UInt8]])] {
        var result: [(String, [[UInt8]])] = [("whole", [bytes])]
        result.append(("byte-by-byte", bytes.map { [$0] }))
        for seed in seeds {
            var generator = SplitMix64(seed: seed)
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
