/// Hand-rolled JSON emission: key order is exactly the order of the calls, so
/// encoded replies are byte-stable and can be compared with golden fixtures
/// (JSONSerialization/JSONEncoder only offer alphabetical order).
struct JSONText {
    private(set) var text = "{"
    private var needsComma = false

    mutating func key(_ name: String) {
        if needsComma { text += "," }
        needsComma = true
        JSONText.appendQuoted(name, to: &text)
        text += ":"
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        JSONText.appendQuoted(value, to: &text)
    }

    mutating func field(_ name: String, _ value: some BinaryInteger) {
        key(name)
        text += String(value)
    }

    mutating func field(_ name: String, raw: String) {
        key(name)
        text += raw
    }

    /// Optional ids are omitted rather than written as null, as the protocol allows both.
    mutating func field(_ name: String, _ value: Int?) {
        if let value { field(name, value) }
    }

    mutating func close() -> String {
        text += "}"
        return text
    }

    static func array(_ elements: [String]) -> String {
        "[" + elements.joined(separator: ",") + "]"
    }

    static func quoted(_ value: String) -> String {
        var out = ""
        appendQuoted(value, to: &out)
        return out
    }

    static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
