/// Hand-rolled JSON emission: key order is exactly the order of the calls, so
/// encoded replies are byte-stable and can be compared with golden fixtures
/// (JSONSerialization/JSONEncoder only offer alphabetical order).
///
/// Written as UTF-8 bytes and made a `String` once: a reply may quote 10,000
/// client strings, and appending to a `String` piece by piece cost ~250 ns
/// a symbol.
package struct JSONText {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var needsComma = false

    package init() {}

    package mutating func key(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        JSONText.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    package mutating func field(_ name: String, _ value: String) {
        key(name)
        JSONText.appendQuoted(value, to: &bytes)
    }

    package mutating func field(_ name: String, _ value: some BinaryInteger) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// An array of strings, quoted straight into the text (no string per element).
    package mutating func field(_ name: String, strings: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(string, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ name: String, raw: String) {
        key(name)
        bytes.append(contentsOf: raw.utf8)
    }

    /// Optional ids are omitted rather than written as null, as the protocol allows both.
    mutating func field(_ name: String, _ value: Int?) {
        if let value { field(name, value) }
    }

    package mutating func close() -> String {
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    static func array(_ elements: [String]) -> String {
        "[" + elements.joined(separator: ",") + "]"
    }

    static func quoted(_ value: String) -> String {
        var out: [UInt8] = []
        appendQuoted(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Copies each run that needs no escape in one append. Every escaped
    /// character is ASCII, and UTF-8 never uses ASCII bytes inside a
    /// multi-byte sequence, so scanning bytes is exact.
    static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { source in
            var runStart = 0
            for offset in source.indices {
                let byte = source[offset]
                guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 else { continue }
                out.append(contentsOf: source[runStart..<offset])
                runStart = offset + 1
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
                case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
                default:
                    let hex = String(byte, radix: 16)
                    out.append(contentsOf: ("u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                }
            }
            out.append(contentsOf: source[runStart...])
        }
        out.append(UInt8(ascii: "\""))
    }
}
