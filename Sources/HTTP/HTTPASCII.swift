/// ASCII helpers for HTTP syntax. HTTP field names and tokens are ASCII and compared
/// case-insensitively; doing it on bytes avoids Unicode case folding, which could make
/// non-ASCII lookalikes match (e.g. "ſ" folding to "s").
package enum HTTPASCII {
    package static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    package static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// RFC 9110 §5.6.2 `tchar`: what a method, field name or token may contain.
    package static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    package static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// Whether a comma-separated field value (e.g. `Connection: keep-alive, Upgrade`)
    /// lists `token`, ignoring case and optional whitespace around elements.
    package static func tokenList(_ value: String, contains token: String) -> Bool {
        value.split(separator: ",", omittingEmptySubsequences: true).contains { element in
            let trimmed = element.utf8.drop(while: isWhitespace).reversed().drop(while: isWhitespace).reversed()
            return equalsIgnoringCase(String(decoding: trimmed, as: UTF8.self), token)
        }
    }
}
