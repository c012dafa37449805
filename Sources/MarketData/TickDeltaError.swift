/// Why a delta message was rejected. Each case has a stable `code` (for
/// logs, tests and the other decoders, which use the same names). After
/// any of them the decoder has forgotten every symbol: the stream must be
/// restarted (a reconnect with resume), never continued.
public enum TickDeltaError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncatedHeader(length: Int)
    case unsupportedVersion(UInt8)
    case unknownMessageType(UInt8)
    /// A delta message declares record size 0.
    case badRecordSize(Int)
    /// The message ended inside record `index` (or before `recordCount` records).
    case truncated(record: Int)
    /// A varint longer than its field allows, or a value out of its field's range.
    case varintOverflow(record: Int)
    /// A delta for a symbol the decoder holds no record of.
    case missingKeyframe(record: Int, symbolId: UInt32)
    /// A keyframe with delta presence bits set.
    case reservedBits(record: Int)
    /// Bytes after the last declared record.
    case trailingBytes(Int)
    /// More distinct symbols than the decoder keeps (`TickDeltaDecoder.maxSymbols`).
    case tooManySymbols(record: Int)

    public var code: String {
        switch self {
        case .truncatedHeader: "truncated_header"
        case .unsupportedVersion: "unsupported_version"
        case .unknownMessageType: "unknown_message_type"
        case .badRecordSize: "bad_record_size"
        case .truncated: "truncated"
        case .varintOverflow: "varint_overflow"
        case .missingKeyframe: "missing_keyframe"
        case .reservedBits: "reserved_bits"
        case .trailingBytes: "trailing_bytes"
        case .tooManySymbols: "too_many_symbols"
        }
    }

    public var description: String {
        switch self {
        case .truncatedHeader(let length): "\(code): message of \(length) bytes"
        case .unsupportedVersion(let v): "\(code): version \(v)"
        case .unknownMessageType(let t): "\(code): type \(t)"
        case .badRecordSize(let s): "\(code): record size \(s), a delta message declares 0"
        case .truncated(let r): "\(code): message ends in record \(r)"
        case .varintOverflow(let r): "\(code): record \(r)"
        case .missingKeyframe(let r, let id): "\(code): record \(r) is a delta for symbol \(id) without a keyframe"
        case .reservedBits(let r): "\(code): record \(r) is a keyframe with delta bits"
        case .trailingBytes(let n): "\(code): \(n) bytes after the last record"
        case .tooManySymbols(let r): "\(code): record \(r)"
        }
    }
}
