/// A parsed JSON document as a "tape": one node per value, in document order,
/// over the input bytes. An object's members are name, value, name, value...
///
/// Why a tape and not a tree of enums: building a tree costs an allocation
/// per container and per string, which a 64 KiB message of small objects
/// turns into tens of thousands of allocations (35 ms under the fuzzer's
/// AddressSanitizer). The tape is one growing array; strings and numbers stay
/// ranges of the input until a decoder reads one, so skipped values cost
/// nothing more. The document is freed when the decoder returns. A class, so
/// the many views into it (`JSONValue`) share one reference.
final class JSONDocument {
    let bytes: [UInt8]
    let nodes: [JSONNode]

    init(bytes: [UInt8], nodes: [JSONNode]) {
        self.bytes = bytes
        self.nodes = nodes
    }

    var root: JSONValue { JSONValue(document: self, index: 0) }

    /// The text of a number or string node (string: escapes not decoded).
    func token(of node: JSONNode) -> ArraySlice<UInt8> {
        bytes[Int(node.start)..<Int(node.end)]
    }

    /// The UTF-8 bytes a string node stands for, escapes decoded.
    func appendContent(of node: JSONNode, to out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { JSONDocument.appendContent(of: node, in: $0, to: &out) }
    }

    static func appendContent(of node: JSONNode, in bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let range = Int(node.start)..<Int(node.end)
        guard node.kind == .escapedString else {
            out.append(contentsOf: bytes[range])
            return
        }
        var offset = range.lowerBound
        var runStart = offset
        while offset < range.upperBound {
            if bytes[offset] == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[runStart..<offset])
                offset += 1
                let valid = decodeEscape(bytes, at: &offset, into: &out)
                assert(valid, "the parser validated every escape")
                runStart = offset
            } else {
                offset += 1
            }
        }
        out.append(contentsOf: bytes[runStart..<offset])
    }

    /// Decodes the escape whose backslash is just before `offset` and moves
    /// past it. `false` (with `offset` where it stopped) when it is not a
    /// JSON escape or names a lone surrogate, which no string can hold.
    static func decodeEscape(_ bytes: UnsafeBufferPointer<UInt8>, at offset: inout Int, into out: inout [UInt8]) -> Bool {
        guard offset < bytes.count else { return false }
        let letter = bytes[offset]
        offset += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(letter)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard var value = hex4(bytes, at: &offset) else { return false }
            if (0xD800...0xDBFF).contains(value) {
                guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                else { return false }
                offset += 2
                guard let low = hex4(bytes, at: &offset), (0xDC00...0xDFFF).contains(low) else { return false }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(value) else { return false }
            UTF8.encode(scalar) { out.append($0) }
        default:
            offset -= 1
            return false
        }
        return true
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at offset: inout Int) -> UInt32? {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard offset < bytes.count else { return nil }
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }
}

/// One value on the tape: 16 bytes, and a 64 KiB message has at most ~32 K of them.
struct JSONNode {
    enum Kind: UInt8 {
        case null, `false`, `true`, number, string, escapedString, array, object
    }

    var kind: Kind
    /// Strings: the first content byte (after the quote). Otherwise the first byte.
    var start: Int32
    /// Strings: the closing quote; numbers: the byte after the last digit.
    var end: Int32 = 0
    /// Index of the node after this value's last descendant, so a reader can
    /// step over a whole subtree.
    var next: Int32 = 0
}
