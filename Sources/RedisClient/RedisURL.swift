/// `redis://[[user]:password@]host[:port][/db]`: where a Redis server is and how to log in.
/// User and password are percent-decoded. No query options: an unknown one would be
/// silently ignored, so none are accepted.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    /// nil: no AUTH. With a nil `user`, `AUTH password` (the `default` user).
    public var user: String?
    public var password: String?
    public var database: Int

    public static let defaultPort: UInt16 = 6379

    public init(host: String, port: UInt16 = RedisURL.defaultPort, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case scheme
        case host
        case port
        case database
        case escape
        case query

        public var description: String {
            switch self {
            case .scheme: "a Redis URL starts with redis://"
            case .host: "the Redis URL has no host"
            case .port: "the Redis URL's port is not 1-65535"
            case .database: "the Redis URL's database is not a number 0-65535"
            case .escape: "the Redis URL has a malformed %-escape"
            case .query: "the Redis URL takes no query or fragment"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        guard text.hasPrefix("redis://") else { throw .scheme }
        var rest = Substring(text.dropFirst("redis://".count))
        if rest.contains("?") || rest.contains("#") { throw .query }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard db.allSatisfy(\.isASCII), let number = Int(db), number >= 0, number <= 65_535 else { throw .database }
                database = number
            }
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let name = try Self.percentDecoded(credentials[..<colon])
                user = name.isEmpty ? nil : name
                password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                // `redis://secret@host`: a lone credential is the password, as redis-cli reads it.
                password = try Self.percentDecoded(credentials)
            }
        }
        var host = rest
        var port = Self.defaultPort
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .host }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .port }
                port = try Self.port(after.dropFirst())
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            port = try Self.port(rest[rest.index(after: colon)...])
        }
        guard !host.isEmpty else { throw .host }
        self.init(host: String(host), port: port, user: user, password: password, database: database)
    }

    private static func port(_ text: Substring) throws(ParseError) -> UInt16 {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), let value = UInt16(text), value > 0 else { throw .port }
        return value
    }

    private static func percentDecoded(_ text: Substring) throws(ParseError) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let high = hexValue(utf8.removeFirst()), let low = hexValue(utf8.removeFirst()) else {
                    throw .escape
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The URL with the password masked, for logs.
    public var description: String {
        var credentials = ""
        if user != nil || password != nil {
            credentials = (user ?? "") + (password != nil ? ":***" : "") + "@"
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(shownHost):\(port)/\(database)"
    }
}
