/// XOR masking (RFC 6455 §5.3). Shared by the parser (unmasking in place as bytes
/// arrive, so the mask position must carry over between calls) and the encoder.
enum WebSocketMasking {
    /// Masks `bytes` in place, treating `bytes[0]` as payload byte number `offset`.
    static func apply(key: UInt32, offset: Int, to bytes: UnsafeMutableRawBufferPointer) {
        let keyBytes: (UInt8, UInt8, UInt8, UInt8) = (
            UInt8(truncatingIfNeeded: key >> 24), UInt8(truncatingIfNeeded: key >> 16),
            UInt8(truncatingIfNeeded: key >> 8), UInt8(truncatingIfNeeded: key))
        var phase = offset & 3
        for i in bytes.indices {
            let k: UInt8
            switch phase {
            case 0: k = keyBytes.0
            case 1: k = keyBytes.1
            case 2: k = keyBytes.2
            default: k = keyBytes.3
            }
            bytes[i] ^= k
            phase = (phase + 1) & 3
        }
    }
}
