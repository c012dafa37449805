/// `ws://host:port/path?query`, the only form the client speaks (no TLS:
/// put a TLS terminator in front for wss).
public struct TickerURL: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var path: String
    public var query: String?

    public init(host: String, port: UInt16, path: String = "/v1/stream", query: String? = nil) {
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }

    public init?(string: String) {
        var rest = Substring(string)
        if rest.hasPrefix("ws://") { rest = rest.dropFirst(5) } else if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else { return nil }
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<hostEnd]
        var target = rest[hostEnd...]
        if target.isEmpty || target.first == "?" { target = "/" + target }
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = String(target)
            query = nil
        }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { port = 80 } else if after.first == ":", let p = UInt16(after.dropFirst()) { port = p } else { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = String(authority)
            port = 80
        }
        if host.isEmpty { return nil }
    }

    /// Path plus query, as sent in the request line.
    public var target: String { query.map { "\(path)?\($0)" } ?? path }
    public var description: String { "ws://\(host.contains(":") ? "[\(host)]" : host):\(port)\(target)" }
}
