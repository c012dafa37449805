/// Small pure parsers the fault suite needs, kept here so they are unit
/// tested on fixed text: /proc files, HTTP response heads, close frames,
/// sizes given on the command line.
public enum FaultParsing {
    /// "1.23 0.98 0.70" (the 1, 5 and 15 minute averages) from /proc/loadavg.
    public static func loadAverage(_ text: String) -> String? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 3, fields[0..<3].allSatisfy({ Double($0) != nil }) else { return nil }
        return fields[0..<3].joined(separator: " ")
    }

    /// Soft and hard "Max open files" from /proc/PID/limits.
    public static func openFilesLimit(_ text: String) -> (soft: String, hard: String)? {
        for line in text.split(separator: "\n") where line.hasPrefix("Max open files") {
            let rest = line.dropFirst("Max open files".count).split(separator: " ", omittingEmptySubsequences: true)
            guard rest.count >= 2 else { return nil }
            return (String(rest[0]), String(rest[1]))
        }
        return nil
    }

    /// The value of a Prometheus text sample: the first line that starts
    /// with `name` (metric name plus labels, exactly) followed by a space.
    public static func metric(_ name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard line.hasPrefix(name) else { continue }
            let rest = line.dropFirst(name.count)
            guard rest.first == " " else { continue }
            return rest.split(separator: " ").first.flatMap { Double($0) }
        }
        return nil
    }

    /// A parsed HTTP response head: status code and headers (names lowercased).
    public struct ResponseHead: Sendable, Equatable {
        public var status: Int
        public var reason: String
        public var headers: [String: String]
        /// Bytes of the head including the blank line.
        public var length: Int
    }

    /// Parses `HTTP/1.x NNN reason\r\n(headers)\r\n\r\n` once the blank line
    /// has arrived; nil while incomplete, `.failure` when it is not HTTP.
    public static func responseHead(_ bytes: [UInt8]) -> Result<ResponseHead, MalformedHead>? {
        guard let end = firstBlankLine(bytes) else {
            if bytes.count >= 5 && !bytes.starts(with: Array("HTTP/".utf8)) { return .failure(MalformedHead()) }
            return nil
        }
        // Lines split on CRLF at the byte level (a Swift String would fuse "\r\n").
        var lines: [String] = []
        var lineStart = 0
        var i = 0
        while i < end {
            if bytes[i] == 13 && bytes[i + 1] == 10 {
                lines.append(String(decoding: bytes[lineStart..<i], as: UTF8.self))
                i += 2
                lineStart = i
            } else {
                i += 1
            }
        }
        lines.append(String(decoding: bytes[lineStart..<end], as: UTF8.self))
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status) else {
            return .failure(MalformedHead())
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .failure(MalformedHead()) }
            let name = line[..<colon].lowercased()
            var value = line[line.index(after: colon)...]
            while value.first == " " || value.first == "\t" { value = value.dropFirst() }
            while value.last == " " || value.last == "\t" { value = value.dropLast() }
            headers[name] = String(value)
        }
        return .success(ResponseHead(
            status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers, length: end + 4))
    }

    public struct MalformedHead: Error, Equatable, Sendable {
        public init() {}
    }

    /// Index of the "\r\n\r\n" that ends a head, if present.
    public static func firstBlankLine(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// The status code of a close frame's payload; 1005 ("no status") when empty.
    public static func closeCode(payload: some Collection<UInt8>) -> Int {
        guard payload.count >= 2 else { return 1005 }
        let first = payload.first!
        let second = payload[payload.index(after: payload.startIndex)]
        return Int(first) << 8 | Int(second)
    }

    /// "1.5G", "512K", "50M", "1048576" (binary units) -> bytes.
    public static func size(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024]
        if let unit = units[Character(last.uppercased())] {
            guard let value = Double(text.dropLast()), value >= 0 else { return nil }
            return Int(value * unit)
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// 1536 MiB -> "1.50 GiB", 900 KiB -> "900 KiB".
    public static func bytes(_ n: Int) -> String {
        let v = Double(n)
        if abs(v) >= 1024 * 1024 * 1024 { return fixed(v / 1024 / 1024 / 1024, 2) + " GiB" }
        if abs(v) >= 1024 * 1024 { return fixed(v / 1024 / 1024, 1) + " MiB" }
        if abs(v) >= 1024 { return fixed(v / 1024, 0) + " KiB" }
        return "\(n) B"
    }

    /// `value` with `digits` decimals (no Foundation here).
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((abs(value) * Double(scale)).rounded())
        let whole = scaled / scale, frac = scaled % scale
        var text = (value < 0 && scaled != 0 ? "-" : "") + "\(whole)"
        if digits > 0 {
            let f = String(frac)
            text += "." + String(repeating: "0", count: max(0, digits - f.count)) + f
        }
        return text
    }
}
