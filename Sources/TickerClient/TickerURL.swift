import MarketData

/// `ws://host:port/path?query` or `wss://…` (TLS, which needs a
/// `TransportSecurity` such as `TickerClientTLS`'s `TLSSecurity`).
/// `http://` and `https://` are accepted as the same addresses.
public struct TickerURL: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var path: String
    public var query: String?
    /// `wss://`: the bytes go through TLS.
    public var isSecure: Bool

    public init(host: String, port: UInt16, path: String = "/v1/stream", query: String? = nil, isSecure: Bool = false) {
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.isSecure = isSecure
    }

    public init?(string: String) {
        var rest = Substring(string)
        let schemes: [(String, Bool)] = [("ws://", false), ("http://", false), ("wss://", true), ("https://", true)]
        guard let (scheme, secure) = schemes.first(where: { rest.lowercased().hasPrefix($0.0) }) else { return nil }
        rest = rest.dropFirst(scheme.count)
        isSecure = secure
        let defaultPort: UInt16 = secure ? 443 : 80
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
            if after.isEmpty { port = defaultPort } else if after.first == ":", let p = UInt16(after.dropFirst()) { port = p } else { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = String(authority)
            port = defaultPort
        }
        if host.isEmpty { return nil }
    }

    /// The same URL asking for `encoding` (`?encoding=`), unless its query
    /// already names one: a caller's own choice in the URL wins.
    public func with(encoding: TickEncoding) -> TickerURL {
        let items = query?.split(separator: "&") ?? []
        guard !items.contains(where: { $0.hasPrefix("encoding=") }) else { return self }
        var url = self
        url.query = (items.map(String.init) + ["encoding=\(encoding.rawValue)"]).joined(separator: "&")
        return url
    }

    /// Path plus query, as sent in the request line.
    public var target: String { query.map { "\(path)?\($0)" } ?? path }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String {
        "\(isSecure ? "wss" : "ws")://\(host.contains(":") ? "[\(host)]" : host):\(port)\(target)"
    }
}
