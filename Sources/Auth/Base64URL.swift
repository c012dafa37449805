/// Base64url (RFC 4648 §5) as JWS uses it (RFC 7515 §2): the URL-safe alphabet and no
/// padding. Decoding is strict, because a token's parts are compared and signed as text:
/// padding, whitespace, characters outside the alphabet, an impossible length (1 mod 4) and
/// nonzero leftover bits are all refused, so every byte string has exactly one accepted
/// encoding and a signature cannot be re-spelled.
public enum Base64URL {
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: Base64Codec.encode(bytes, alphabet: Base64Codec.urlAlphabet), as: UTF8.self)
    }

    /// nil unless `text` is canonical unpadded base64url.
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        Base64Codec.decodeUnpadded(text, url: true)
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(text.utf8)
    }
}

/// The two alphabets of RFC 4648 (§4 standard, §5 URL-safe) over one strict core.
enum Base64Codec {
    static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Unpadded: the last group has 2 or 3 characters when the length is not a multiple of 3.
    static func encode<C: Collection>(_ bytes: C, alphabet: [UInt8]) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            let group = UInt32(b0) << 16 | UInt32(b1 ?? 0) << 8 | UInt32(b2 ?? 0)
            out.append(alphabet[Int(group >> 18 & 0x3F)])
            out.append(alphabet[Int(group >> 12 & 0x3F)])
            if b1 != nil { out.append(alphabet[Int(group >> 6 & 0x3F)]) }
            if b2 != nil { out.append(alphabet[Int(group & 0x3F)]) }
        }
        return out
    }

    /// Standard alphabet, for secrets in the key file: padding optional, but when present it
    /// must be the canonical one or two `=` that complete the last group.
    static func decodeStandard(_ text: [UInt8]) -> [UInt8]? {
        var body = text[...]
        var padding = 0
        while body.last == UInt8(ascii: "=") && padding < 2 {
            body.removeLast()
            padding += 1
        }
        if padding > 0 && text.count % 4 != 0 { return nil }
        // With the total a multiple of 4, one `=` leaves a 3-character tail and two leave 2:
        // exactly the groups padding may complete.
        return decodeUnpadded(body, url: false)
    }

    /// Strict unpadded decoding; nil on any character outside the alphabet (including `=`),
    /// a length of 1 mod 4, or nonzero bits after the last whole byte.
    static func decodeUnpadded<C: Collection>(_ text: C, url: Bool) -> [UInt8]? where C.Element == UInt8 {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3 + 2)
        var group: UInt32 = 0
        var filled = 0
        for char in text {
            guard let value = sextet(char, url: url) else { return nil }
            group = group << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                out.append(UInt8(truncatingIfNeeded: group >> 16))
                out.append(UInt8(truncatingIfNeeded: group >> 8))
                out.append(UInt8(truncatingIfNeeded: group))
                group = 0
                filled = 0
            }
        }
        switch filled {
        case 2:
            // 12 bits: one byte and 4 leftover bits, which must be zero.
            guard group & 0xF == 0 else { return nil }
            out.append(UInt8(truncatingIfNeeded: group >> 4))
        case 3:
            // 18 bits: two bytes and 2 leftover bits, which must be zero.
            guard group & 0x3 == 0 else { return nil }
            out.append(UInt8(truncatingIfNeeded: group >> 10))
            out.append(UInt8(truncatingIfNeeded: group >> 2))
        default:
            break
        }
        return out
    }

    private static func sextet(_ char: UInt8, url: Bool) -> UInt8? {
        switch char {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return char - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return char - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-") where url, UInt8(ascii: "+") where !url: return 62
        case UInt8(ascii: "_") where url, UInt8(ascii: "/") where !url: return 63
        default: return nil
        }
    }
}
