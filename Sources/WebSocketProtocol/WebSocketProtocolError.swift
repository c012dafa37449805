/// Every way a peer can violate the protocol. Each case names one rule so logs and
/// tests can say exactly which rule broke, and each maps to the close code that tells
/// the peer why (RFC 6455 §7.4.1).
public enum WebSocketProtocolError: Error, Equatable, Sendable {
    case unmaskedClientFrame
    case maskedServerFrame
    case reservedBitsSet
    case reservedOpcode(UInt8)
    case controlFrameTooLong
    case fragmentedControlFrame
    /// A 64-bit length with its most significant bit set (RFC 6455 §5.2 forbids it).
    /// Checked on the raw `UInt64` so converting to `Int` can never trap.
    case lengthTopBitSet
    /// Declared frame length above the limit; raised from the header alone, so no
    /// payload memory is ever reserved for it.
    case frameTooLarge
    case messageTooLarge
    /// More frames in one message than allowed: tiny fragments cost per-frame work and
    /// bookkeeping far beyond their byte count.
    case tooManyFragments
    case unexpectedContinuation
    case expectedContinuation
    case invalidUTF8
    case invalidCloseCode(UInt16)
    case closePayloadTooShort

    public var closeCode: WebSocketCloseCode {
        switch self {
        case .frameTooLarge, .messageTooLarge: return .messageTooBig
        case .tooManyFragments: return .policyViolation
        case .invalidUTF8: return .invalidPayload
        case .unmaskedClientFrame, .maskedServerFrame, .reservedBitsSet, .reservedOpcode,
            .controlFrameTooLong, .fragmentedControlFrame, .lengthTopBitSet,
            .unexpectedContinuation, .expectedContinuation, .invalidCloseCode,
            .closePayloadTooShort:
            return .protocolError
        }
    }
}
