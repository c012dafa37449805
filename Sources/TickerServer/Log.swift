import Foundation

/// Line logging to standard error, one line per event; the hot path never
/// logs. Two formats (`--log-format`):
/// - `text` (default): `2026-11-21T17:00:00Z info message key=value ...`
/// - `json`: one object per line, `{"time":…,"level":…,"message":…,"fields":{…}}`,
///   for log shippers that parse rather than grep.
public enum Log {
    public enum Level: Int, Comparable, Sendable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warn", "error"][rawValue] }
    }

    public enum Format: String, CaseIterable, Sendable {
        case text, json
    }

    nonisolated(unsafe) public static var minimum: Level = .info
    /// Set once at start, before any thread logs.
    nonisolated(unsafe) public static var format: Format = .text

    public static func debug(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.debug, message(), fields)
    }
    public static func info(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.info, message(), fields)
    }
    public static func warning(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.warning, message(), fields)
    }
    public static func error(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.error, message(), fields)
    }

    static func write(_ level: Level, _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String>) {
        guard level >= minimum else { return }
        let line = render(level: level, time: Date(), message: message(), fields: fields, format: format)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// One line, newline included.
    static func render(level: Level, time: Date, message: String, fields: KeyValuePairs<String, String>, format: Format) -> String {
        let stamp = time.ISO8601Format()
        switch format {
        case .text:
            let extra = fields.map { " \($0.key)=\($0.value)" }.joined()
            return "\(stamp) \(level.name) \(message)\(extra)\n"
        case .json:
            let object = fields.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",")
            return "{\"time\":\(jsonString(stamp)),\"level\":\(jsonString(level.name)),\"message\":\(jsonString(message)),\"fields\":{\(object)}}\n"
        }
    }

    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
