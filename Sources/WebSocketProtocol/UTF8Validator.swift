/// Incremental UTF-8 validator. Text messages arrive in fragments split at arbitrary byte
/// positions, and RFC 6455 §8.1 asks us to fail as soon as the bytes are known to be
/// invalid, so the decoding state carries across calls instead of validating a whole
/// message at the end.
///
/// It tracks how many continuation bytes are still expected and the allowed range of the
/// next one; the narrowed ranges after E0, ED, F0 and F4 are what reject overlong forms,
/// UTF-16 surrogates and code points above U+10FFFF (Unicode Table 3-7).
public struct UTF8Validator: Sendable {
    private var pending: UInt8 = 0
    private var nextLow: UInt8 = 0x80
    private var nextHigh: UInt8 = 0xBF

    public init() {}

    /// True when no multi-byte sequence is left open: the bytes fed so far form complete text.
    public var isComplete: Bool { pending == 0 }

    public mutating func reset() {
        pending = 0
        nextLow = 0x80
        nextHigh = 0xBF
    }

    /// Feeds more bytes. Returns false as soon as a byte makes the input invalid whatever
    /// follows; the validator must then be reset before reuse.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            let byte = bytes[index]
            index += 1
            if pending == 0 {
                if byte < 0x80 {
                    // ASCII fast path: skip a run without touching the state.
                    while index < end, bytes[index] < 0x80 { index += 1 }
                    continue
                }
                switch byte {
                case 0xC2...0xDF: pending = 1
                case 0xE0: pending = 2; nextLow = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: pending = 2
                case 0xED: pending = 2; nextHigh = 0x9F
                case 0xF0: pending = 3; nextLow = 0x90
                case 0xF1...0xF3: pending = 3
                case 0xF4: pending = 3; nextHigh = 0x8F
                default: return false
                }
            } else {
                guard byte >= nextLow && byte <= nextHigh else { return false }
                pending -= 1
                nextLow = 0x80
                nextHigh = 0xBF
            }
        }
        return true
    }

    public mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { feed($0) }
    }
}
