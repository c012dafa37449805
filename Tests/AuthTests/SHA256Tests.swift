import Auth
import Testing

/// SHA-256 against the FIPS 180-4 examples (NIST's "Example Algorithms" for SHA-256), one
/// shot and through the incremental hasher in uneven pieces.
@Suite struct SHA256Tests {
    static let vectors: [(message: String, digest: String)] = [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        // 448 bits: the padding's length field no longer fits in the first block.
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        // 896 bits: two blocks of message.
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]
    static let millionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

    @Test(arguments: vectors.indices)
    func fipsExample(_ index: Int) {
        let (message, digest) = Self.vectors[index]
        #expect(AuthFixtures.hexString(SHA256.hash(Array(message.utf8))) == digest)
        // A Sequence without contiguous storage takes the byte-at-a-time path.
        #expect(AuthFixtures.hexString(SHA256.hash(message.utf8.lazy.map { $0 })) == digest)
    }

    @Test func oneMillionA() {
        #expect(AuthFixtures.hexString(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))) == Self.millionA)
    }

    @Test func oneMillionAInUnevenChunks() {
        // Chunk sizes cycle through 1, 63, 64, 65, 127, 1000, 7 bytes: every alignment to the
        // 64-byte block is crossed, and the hasher's partial block is used and emptied.
        let sizes = [1, 63, 64, 65, 127, 1000, 7]
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        var hasher = SHA256Hasher()
        var fed = 0
        var turn = 0
        while fed < 1_000_000 {
            let size = min(sizes[turn % sizes.count], 1_000_000 - fed)
            hasher.update(chunk[0..<size])
            fed += size
            turn += 1
        }
        #expect(AuthFixtures.hexString(hasher.finalize()) == Self.millionA)
    }

    @Test func everySplitOfTheTwoBlockExample() {
        let (message, digest) = Self.vectors[3]
        let bytes = Array(message.utf8)
        for split in 0...bytes.count {
            var hasher = SHA256Hasher()
            hasher.update(bytes[..<split])
            hasher.update(bytes[split...])
            #expect(AuthFixtures.hexString(hasher.finalize()) == digest, "split at \(split)")
        }
    }

    @Test func finalizeLeavesTheHasherUsable() {
        var hasher = SHA256Hasher()
        hasher.update(Array("ab".utf8))
        _ = hasher.finalize()
        hasher.update(Array("c".utf8))
        #expect(AuthFixtures.hexString(hasher.finalize()) == Self.vectors[0].digest)
    }

    /// Every message length around the padding boundaries (55, 56, 63, 64 bytes...) agrees
    /// between one-shot and byte-by-byte hashing and has the digest's length.
    @Test func paddingBoundaries() {
        for length in 0...130 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var hasher = SHA256Hasher()
            for byte in bytes { hasher.update([byte]) }
            let digest = SHA256.hash(bytes)
            #expect(digest.count == SHA256.digestByteCount)
            #expect(hasher.finalize() == digest, "length \(length)")
        }
    }
}
