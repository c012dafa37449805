/// One RESP2 or RESP3 reply (or command) as a value. Strings that may carry binary data
/// (bulk strings, bulk errors, verbatim text) stay bytes; line types (simple strings,
/// errors, big numbers) are ASCII by protocol and become `String`.
///
/// `Equatable` compares doubles by bit pattern, so a parsed NaN equals itself and a
/// round trip through the encoder can be checked with `==`.
public enum RESPValue: Sendable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    case bulkString([UInt8])
    /// RESP2's null bulk string (`$-1`) and null array (`*-1`), and RESP3's `_`.
    case null
    case array([RESPValue])
    case boolean(Bool)
    case double(Double)
    /// Digits with an optional leading minus, kept as text (no bignum type here).
    case bigNumber(String)
    case bulkError([UInt8])
    /// `format` is the three-letter type (`txt`, `mkd`).
    case verbatim(format: String, text: [UInt8])
    case map([RESPPair])
    case set([RESPValue])
    /// Out-of-band data (RESP3 `>`): pub/sub messages, invalidations.
    case push([RESPValue])
}

public struct RESPPair: Sendable, Equatable {
    public var key: RESPValue
    public var value: RESPValue
    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue: Equatable {
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
        case (.bigNumber(let a), .bigNumber(let b)): return a == b
        case (.bulkError(let a), .bulkError(let b)): return a == b
        case (.verbatim(let f1, let t1), .verbatim(let f2, let t2)): return f1 == f2 && t1 == t2
        case (.map(let a), .map(let b)): return a == b
        case (.set(let a), .set(let b)): return a == b
        case (.push(let a), .push(let b)): return a == b
        default: return false
        }
    }
}

extension RESPValue {
    /// The text of a simple string, bulk string or verbatim string.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b): return String(decoding: b, as: UTF8.self)
        case .verbatim(_, let t): return String(decoding: t, as: UTF8.self)
        default: return nil
        }
    }

    /// The bytes of a bulk or verbatim string (or a simple string's UTF-8).
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let b): return b
        case .verbatim(_, let t): return t
        case .simpleString(let s): return Array(s.utf8)
        default: return nil
        }
    }

    public var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The message of an error reply (simple or bulk), nil for anything else.
    public var errorMessage: String? {
        switch self {
        case .error(let s): return s
        case .bulkError(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// Elements of an array, set or push; nil for anything else (a null array is nil too).
    public var elements: [RESPValue]? {
        switch self {
        case .array(let a), .set(let a), .push(let a): return a
        default: return nil
        }
    }

    /// A map's pairs, or an even-length array read as alternating keys and values
    /// (how RESP2 answers `HGETALL` and `CONFIG GET`, where RESP3 answers a map).
    public var pairs: [RESPPair]? {
        switch self {
        case .map(let p): return p
        case .array(let a) where a.count % 2 == 0:
            return stride(from: 0, to: a.count, by: 2).map { RESPPair(key: a[$0], value: a[$0 + 1]) }
        default: return nil
        }
    }
}
