import HTTP
/// The opening handshake (RFC 6455 §4), both sides, without I/O.
public enum WebSocketHandshake {
    /// The fixed GUID from RFC 6455 §1.3 that both sides append to the key.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    /// Validates an upgrade request and builds the answer. A missing `Origin` passes even
    /// with an allowlist: only browsers send it, and the check exists to stop other sites'
    /// pages from opening sockets with the user's cookies; non-browser clients can set any
    /// Origin anyway. Origins are compared exactly as serialized (scheme://host[:port]).
    /// A wrong method is answered 400, like the other malformed upgrades.
    public static func serverResponse(
        to request: HTTPRequestHead, allowedOrigins: Set<String>? = nil
    ) -> Result<HTTPResponse, HTTPResponseError> {
        validate(request, allowedOrigins: allowedOrigins).map(switchingProtocols(accept:))
    }

    /// The checks of `serverResponse`, returning the `Sec-WebSocket-Accept` value: a
    /// server that performs the upgrade later (paced) keeps these 28 bytes instead of
    /// the whole request head.
    public static func validate(
        _ request: HTTPRequestHead, allowedOrigins: Set<String>? = nil
    ) -> Result<String, HTTPResponseError> {
        guard request.method == "GET" else { return refuse(400, "WebSocket upgrade requires GET") }
        guard request.version == "HTTP/1.1" else { return refuse(400, "WebSocket upgrade requires HTTP/1.1") }
        let hosts = request.headers(named: "Host")
        guard hosts.count == 1, !hosts[0].isEmpty else { return refuse(400, "exactly one Host header required") }
        guard request.headers(named: "Upgrade").contains(where: { HTTPASCII.tokenList($0, contains: "websocket") }) else {
            return refuse(400, "Upgrade: websocket required")
        }
        guard request.headers(named: "Connection").contains(where: { HTTPASCII.tokenList($0, contains: "upgrade") }) else {
            return refuse(400, "Connection: Upgrade required")
        }
        guard request.header("Sec-WebSocket-Version") == "13" else {
            return refuse(426, "Sec-WebSocket-Version 13 required", extraHeaders: [("Sec-WebSocket-Version", "13")])
        }
        let keys = request.headers(named: "Sec-WebSocket-Key")
        guard keys.count == 1, let nonce = Base64.decode(keys[0]), nonce.count == 16 else {
            return refuse(400, "invalid Sec-WebSocket-Key")
        }
        if let allowedOrigins, let origin = request.header("Origin"), !allowedOrigins.contains(origin) {
            return refuse(403, "origin not allowed")
        }
        return .success(acceptValue(forKey: keys[0]))
    }

    /// The 101 answer to a validated request (`validate` gave `accept`).
    public static func switchingProtocols(accept: String) -> HTTPResponse {
        HTTPResponse(
            status: 101,
            headers: [
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", accept),
            ])
    }

    /// Builds the client's upgrade request with a fresh random key (§4.1 requires a new
    /// nonce per connection); the key is returned to check the server's accept value.
    public static func clientRequest(
        host: String, path: String, extraHeaders: [(String, String)] = []
    ) -> (bytes: [UInt8], key: String) {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = Base64.encode(nonce)
        var text = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in extraHeaders {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return (Array(text.utf8), key)
    }

    /// Checks the server's answer against the key we sent (§4.1, client requirements 1-4).
    public static func validateServerResponse(
        _ response: HTTPResponseHead, key: String
    ) throws(WebSocketClientHandshakeError) {
        guard response.status == 101 else { throw .unexpectedStatus(response.status) }
        guard response.headers(named: "Upgrade").contains(where: { HTTPASCII.tokenList($0, contains: "websocket") }) else {
            throw .missingUpgradeToken
        }
        guard response.headers(named: "Connection").contains(where: { HTTPASCII.tokenList($0, contains: "upgrade") }) else {
            throw .missingConnectionToken
        }
        guard response.header("Sec-WebSocket-Accept") == acceptValue(forKey: key) else { throw .badAccept }
    }

    private static func refuse<Success>(
        _ status: Int, _ reason: String, extraHeaders: [(String, String)] = []
    ) -> Result<Success, HTTPResponseError> {
        var headers: [(String, String)] = [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")]
        headers.append(contentsOf: extraHeaders)
        return .failure(HTTPResponseError(response: HTTPResponse(status: status, headers: headers, body: Array((reason + "\n").utf8))))
    }
}
