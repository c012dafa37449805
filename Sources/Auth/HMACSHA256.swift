/// HMAC (RFC 2104) over SHA-256, the MAC of the `HS256` JWS algorithm (RFC 7518 §3.2).
/// Checked against RFC 4231 test cases 1–7.
public enum HMACSHA256 {
    public static func authenticate<M: Collection, K: Collection>(_ message: M, key: K) -> [UInt8]
    where M.Element == UInt8, K.Element == UInt8 {
        // A key longer than a block is hashed first; a shorter one is padded with zeros.
        var block = key.count > SHA256.blockByteCount ? SHA256.hash(key) : Array(key)
        block.append(contentsOf: repeatElement(0, count: SHA256.blockByteCount - block.count))

        var inner = SHA256Hasher()
        inner.update(block.lazy.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256Hasher()
        outer.update(block.lazy.map { $0 ^ 0x5C })
        outer.update(inner.finalize())
        return outer.finalize()
    }
}

/// Compares in time independent of where the first difference is (length may leak).
///
/// Used for MACs: an early exit at the first differing byte would let a caller who can time
/// the answer learn a valid signature byte by byte. Every byte pair is XORed into one
/// accumulator, and only the accumulator is tested, once, after the loop.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices {
        difference |= a[index] ^ b[index]
    }
    return difference == 0
}
