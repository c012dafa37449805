/// SHA-256 (FIPS 180-4 §6.2), the hash under HMAC-SHA256 and so under every token.
/// We carry our own for the same reason as `SHA1`: the package has no dependencies and
/// Foundation on Linux offers no digest API. Checked against the FIPS 180-4 examples
/// (Tests/AuthTests/SHA256Tests.swift).
public enum SHA256 {
    /// Digest length in bytes (256 bits).
    public static let digestByteCount = 32
    /// Block length in bytes; HMAC pads its key to this.
    public static let blockByteCount = 64

    public static func hash<S: Sequence>(_ bytes: S) -> [UInt8] where S.Element == UInt8 {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// H(0), FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square
    /// roots of the first eight primes.
    static let initialState: [UInt32] = [
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19,
    ]

    /// K, FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots
    /// of the first sixty-four primes.
    static let roundConstants: [UInt32] = [
        0x428A_2F98, 0x7137_4491, 0xB5C0_FBCF, 0xE9B5_DBA5, 0x3956_C25B, 0x59F1_11F1, 0x923F_82A4, 0xAB1C_5ED5,
        0xD807_AA98, 0x1283_5B01, 0x2431_85BE, 0x550C_7DC3, 0x72BE_5D74, 0x80DE_B1FE, 0x9BDC_06A7, 0xC19B_F174,
        0xE49B_69C1, 0xEFBE_4786, 0x0FC1_9DC6, 0x240C_A1CC, 0x2DE9_2C6F, 0x4A74_84AA, 0x5CB0_A9DC, 0x76F9_88DA,
        0x983E_5152, 0xA831_C66D, 0xB003_27C8, 0xBF59_7FC7, 0xC6E0_0BF3, 0xD5A7_9147, 0x06CA_6351, 0x1429_2967,
        0x27B7_0A85, 0x2E1B_2138, 0x4D2C_6DFC, 0x5338_0D13, 0x650A_7354, 0x766A_0ABB, 0x81C2_C92E, 0x9272_2C85,
        0xA2BF_E8A1, 0xA81A_664B, 0xC24B_8B70, 0xC76C_51A3, 0xD192_E819, 0xD699_0624, 0xF40E_3585, 0x106A_A070,
        0x19A4_C116, 0x1E37_6C08, 0x2748_774C, 0x34B0_BCB5, 0x391C_0CB3, 0x4ED8_AA4A, 0x5B9C_CA4F, 0x682E_6FF3,
        0x748F_82EE, 0x78A5_636F, 0x84C8_7814, 0x8CC7_0208, 0x90BE_FFFA, 0xA450_6CEB, 0xBEF9_A3F7, 0xC671_78F2,
    ]
}

/// SHA-256 fed piece by piece: `update` any number of times, then `finalize`. HMAC uses it
/// to hash the padded key and the message without concatenating them; chunk boundaries never
/// change the digest (tested with a million `a` in uneven pieces).
public struct SHA256Hasher: Sendable {
    private var state = SHA256.initialState
    /// Bytes of the current block not yet compressed; always fewer than 64 between calls.
    private var pending: [UInt8] = []
    /// Bytes hashed so far. FIPS 180-4 limits messages to 2^64 bits; the bit length is
    /// taken modulo 2^64, as the padding rule writes it.
    private var byteCount: UInt64 = 0

    public init() {
        pending.reserveCapacity(SHA256.blockByteCount)
    }

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { absorb($0) }
        guard done == nil else { return }
        for byte in bytes {
            pending.append(byte)
            byteCount &+= 1
            if pending.count == SHA256.blockByteCount { compressPending() }
        }
    }

    /// The digest of everything fed so far. Leaves the hasher as it was, so more can be fed
    /// and a digest of the longer message taken later.
    public func finalize() -> [UInt8] {
        var copy = self
        let bitLength = byteCount &* 8
        // FIPS 180-4 §5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, the length in 64 bits big-endian.
        let zeros = (SHA256.blockByteCount + 55 - Int(byteCount % 64)) % SHA256.blockByteCount
        var tail: [UInt8] = [0x80]
        tail.append(contentsOf: repeatElement(0, count: zeros))
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        copy.update(tail)
        assert(copy.pending.isEmpty, "padding ends on a block boundary")
        var digest: [UInt8] = []
        digest.reserveCapacity(SHA256.digestByteCount)
        for word in copy.state {
            for shift in stride(from: 24, through: 0, by: -8) {
                digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
            }
        }
        return digest
    }

    /// Whole blocks straight from the caller's storage; only a partial block is copied.
    private mutating func absorb(_ bytes: UnsafeBufferPointer<UInt8>) {
        byteCount &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(SHA256.blockByteCount - pending.count, bytes.count)
            pending.append(contentsOf: bytes[0..<take])
            offset = take
            if pending.count < SHA256.blockByteCount { return }
            compressPending()
        }
        while bytes.count - offset >= SHA256.blockByteCount {
            Self.compress(UnsafeBufferPointer(rebasing: bytes[offset..<(offset + SHA256.blockByteCount)]), into: &state)
            offset += SHA256.blockByteCount
        }
        pending.append(contentsOf: bytes[offset...])
    }

    private mutating func compressPending() {
        pending.withUnsafeBufferPointer { Self.compress($0, into: &state) }
        pending.removeAll(keepingCapacity: true)
    }

    /// One application of the compression function (FIPS 180-4 §6.2.2) to a 64-byte block.
    private static func compress(_ block: UnsafeBufferPointer<UInt8>, into state: inout [UInt32]) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                    | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
            }
            for t in 16..<64 {
                let s0 = rotateRight(w[t - 15], 7) ^ rotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotateRight(w[t - 2], 17) ^ rotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var a = state[0], b = state[1], c = state[2], d = state[3]
            var e = state[4], f = state[5], g = state[6], h = state[7]
            for t in 0..<64 {
                let bigSigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
                let choice = (e & f) ^ (~e & g)
                let t1 = h &+ bigSigma1 &+ choice &+ SHA256.roundConstants[t] &+ w[t]
                let bigSigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = bigSigma0 &+ majority
                h = g
                g = f
                f = e
                e = d &+ t1
                d = c
                c = b
                b = a
                a = t1 &+ t2
            }
            state[0] &+= a
            state[1] &+= b
            state[2] &+= c
            state[3] &+= d
            state[4] &+= e
            state[5] &+= f
            state[6] &+= g
            state[7] &+= h
        }
    }

    private static func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value >> count) | (value << (32 - count))
    }
}
