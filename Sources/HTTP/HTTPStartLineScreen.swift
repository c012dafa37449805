/// Checks the first line of a message byte by byte as it arrives, so input that can never
/// become a valid start line is refused on its first wrong byte instead of at the
/// handshake deadline. What it guards against is a peer speaking something else on the
/// plain port: a TLS ClientHello (first byte 0x16), an SSH banner, a Redis command, binary
/// noise. Each of those used to hold a connection slot for the whole 10 s deadline.
///
/// The screen only refuses what `make(firstLine:fields:)` would refuse anyway once the line
/// was complete (it is a prefix check of the same grammar), so it changes when a bad head
/// fails, never whether a good one passes.
public struct HTTPStartLineScreen: Sendable {
    private enum State: Sendable {
        /// `method SP target SP HTTP/d.d CRLF` (RFC 9112 §3), `Int` = bytes seen of the current part.
        case method(Int), target(Int), version(Int), lineFeed
        /// Past the start line, or a screen that accepts anything.
        case done
    }

    private var state: State

    /// Request lines: a token method, an origin-form or other target without spaces or
    /// control characters, and `HTTP/` digit `.` digit.
    public static let requestLine = HTTPStartLineScreen(state: .method(0))
    /// No screening (status lines are checked only once complete).
    public static let none = HTTPStartLineScreen(state: .done)

    private init(state: State) { self.state = state }

    /// True once the start line's CRLF went through (or for `none`).
    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    private static let versionPattern = Array("HTTP/0.0".utf8)

    /// Takes the next byte; false when no continuation can make the line valid.
    public mutating func accept(_ byte: UInt8) -> Bool {
        switch state {
        case .done:
            return true
        case .method(let length):
            if byte == UInt8(ascii: " ") && length > 0 {
                state = .target(0)
                return true
            }
            guard HTTPASCII.isTokenChar(byte) else { return false }
            state = .method(length + 1)
            return true
        case .target(let length):
            if byte == UInt8(ascii: " ") && length > 0 {
                state = .version(0)
                return true
            }
            guard byte > 0x20 && byte != 0x7F else { return false }
            state = .target(length + 1)
            return true
        case .version(let length):
            if length == Self.versionPattern.count {
                guard byte == UInt8(ascii: "\r") else { return false }
                state = .lineFeed
                return true
            }
            let expected = Self.versionPattern[length]
            let matches = expected == UInt8(ascii: "0")
                ? (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) : byte == expected
            guard matches else { return false }
            state = .version(length + 1)
            return true
        case .lineFeed:
            guard byte == UInt8(ascii: "\n") else { return false }
            state = .done
            return true
        }
    }
}
