/// Writes RESP. Commands go out as arrays of bulk strings (what every Redis accepts);
/// `encode(_:into:)` writes any value, which tests and the fuzz oracle use to round-trip.
public enum RESPEncoder {
    /// `*N\r\n` then `$len\r\narg\r\n` per argument.
    public static func command(_ arguments: [[UInt8]], into out: inout [UInt8]) {
        header(UInt8(ascii: "*"), arguments.count, into: &out)
        for argument in arguments {
            header(UInt8(ascii: "$"), argument.count, into: &out)
            out.append(contentsOf: argument)
            out.append(0x0D)
            out.append(0x0A)
        }
    }

    public static func command(_ arguments: [String], into out: inout [UInt8]) {
        command(arguments.map { Array($0.utf8) }, into: &out)
    }

    public static func command(_ arguments: String...) -> [UInt8] {
        var out: [UInt8] = []
        command(arguments, into: &out)
        return out
    }

    public static func encode(_ value: RESPValue) -> [UInt8] {
        var out: [UInt8] = []
        encode(value, into: &out)
        return out
    }

    public static func encode(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .simpleString(let s): line(UInt8(ascii: "+"), s, into: &out)
        case .error(let s): line(UInt8(ascii: "-"), s, into: &out)
        case .integer(let i): line(UInt8(ascii: ":"), String(i), into: &out)
        case .bulkString(let b): bulk(UInt8(ascii: "$"), b, into: &out)
        case .null: out.append(contentsOf: [UInt8(ascii: "_"), 0x0D, 0x0A])
        case .array(let a): aggregate(UInt8(ascii: "*"), a, into: &out)
        case .boolean(let b): line(UInt8(ascii: "#"), b ? "t" : "f", into: &out)
        case .double(let d):
            let text: String
            if d.isNaN { text = "nan" } else if d == .infinity { text = "inf" } else if d == -.infinity { text = "-inf" } else { text = "\(d)" }
            line(UInt8(ascii: ","), text, into: &out)
        case .bigNumber(let s): line(UInt8(ascii: "("), s, into: &out)
        case .bulkError(let b): bulk(UInt8(ascii: "!"), b, into: &out)
        case .verbatim(let format, let text):
            var payload = Array(format.utf8.prefix(3))
            while payload.count < 3 { payload.append(UInt8(ascii: " ")) }
            payload.append(UInt8(ascii: ":"))
            payload.append(contentsOf: text)
            bulk(UInt8(ascii: "="), payload, into: &out)
        case .map(let pairs):
            header(UInt8(ascii: "%"), pairs.count, into: &out)
            for pair in pairs {
                encode(pair.key, into: &out)
                encode(pair.value, into: &out)
            }
        case .set(let a): aggregate(UInt8(ascii: "~"), a, into: &out)
        case .push(let a): aggregate(UInt8(ascii: ">"), a, into: &out)
        }
    }

    private static func header(_ type: UInt8, _ count: Int, into out: inout [UInt8]) {
        out.append(type)
        out.append(contentsOf: String(count).utf8)
        out.append(0x0D)
        out.append(0x0A)
    }

    /// Line types cannot carry CR or LF; they are replaced by spaces rather than
    /// breaking the framing.
    private static func line(_ type: UInt8, _ text: String, into out: inout [UInt8]) {
        out.append(type)
        for byte in text.utf8 { out.append(byte == 0x0D || byte == 0x0A ? UInt8(ascii: " ") : byte) }
        out.append(0x0D)
        out.append(0x0A)
    }

    private static func bulk(_ type: UInt8, _ bytes: [UInt8], into out: inout [UInt8]) {
        header(type, bytes.count, into: &out)
        out.append(contentsOf: bytes)
        out.append(0x0D)
        out.append(0x0A)
    }

    private static func aggregate(_ type: UInt8, _ values: [RESPValue], into out: inout [UInt8]) {
        header(type, values.count, into: &out)
        for value in values { encode(value, into: &out) }
    }
}
