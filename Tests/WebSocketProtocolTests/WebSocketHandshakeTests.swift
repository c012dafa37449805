import HTTP
import Testing
import WebSocketProtocol

private func request(removing removed: String? = nil, setting: [(String, String)] = [], method: String = "GET") -> HTTPRequestHead {
    var headers: [(name: String, value: String)] = [
        ("Host", "example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
    ]
    headers.removeAll { $0.name == removed }
    for (name, value) in setting {
        headers.removeAll { $0.name == name }
        headers.append((name, value))
    }
    return HTTPRequestHead(method: method, target: "/feed", headers: headers)
}

private func refusal(_ result: Result<HTTPResponse, HTTPResponseError>) -> HTTPResponse? {
    if case .failure(let error) = result { return error.response }
    return nil
}

@Suite struct WebSocketHandshakeTests {
    @Test func rfcAcceptValue() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func validUpgradeGets101() throws {
        let response = try WebSocketHandshake.serverResponse(to: request(setting: [("Connection", "keep-alive, UPGRADE"), ("Upgrade", "WebSocket")])).get()
        #expect(response.status == 101)
        #expect(response.headers.contains { $0.0 == "Sec-WebSocket-Accept" && $0.1 == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" })
    }

    /// A paced server validates at once and answers later from the accept
    /// value alone: the two steps give exactly what `serverResponse` gives.
    @Test func validateThenAnswerIsServerResponse() throws {
        let accept = try WebSocketHandshake.validate(request()).get()
        #expect(accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let later = WebSocketHandshake.switchingProtocols(accept: accept)
        let atOnce = try WebSocketHandshake.serverResponse(to: request()).get()
        #expect(later.serialize() == atOnce.serialize())
        guard case .failure(let error) = WebSocketHandshake.validate(request(removing: "Sec-WebSocket-Key")) else {
            Issue.record("a request without a key validated")
            return
        }
        #expect(error.response.status == 400)
    }

    @Test func parsedRequestUpgrades() throws {
        var parser = HTTPRequestParser()
        guard case .complete(let head, _) = parser.append(Array(upgradeRequest.utf8)) else {
            Issue.record("not complete")
            return
        }
        #expect(throws: Never.self) { try WebSocketHandshake.serverResponse(to: head, allowedOrigins: ["http://example.com"]).get() }
    }

    @Test func wrongMethodIs400() {
        #expect(refusal(WebSocketHandshake.serverResponse(to: request(method: "POST")))?.status == 400)
    }

    @Test(arguments: ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key"])
    func missingHeaderIs400(_ name: String) {
        #expect(refusal(WebSocketHandshake.serverResponse(to: request(removing: name)))?.status == 400)
    }

    @Test(arguments: [("Upgrade", "h2c"), ("Connection", "keep-alive"), ("Connection", "upgraded")])
    func missingTokenIs400(name: String, value: String) {
        #expect(refusal(WebSocketHandshake.serverResponse(to: request(setting: [(name, value)])))?.status == 400)
    }

    @Test(arguments: ["not base64!", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZQ==", "dGhlIHNhbXBsZSBub25jZSEh"])
    func badKeyIs400(_ key: String) {
        #expect(refusal(WebSocketHandshake.serverResponse(to: request(setting: [("Sec-WebSocket-Key", key)])))?.status == 400)
    }

    @Test func wrongVersionIs426WithSupportedVersion() {
        let response = refusal(WebSocketHandshake.serverResponse(to: request(setting: [("Sec-WebSocket-Version", "8")])))
        #expect(response?.status == 426)
        #expect(response?.headers.contains { $0.0 == "Sec-WebSocket-Version" && $0.1 == "13" } == true)
    }

    @Test func crossSiteOriginIs403() {
        let allowed: Set<String> = ["https://ticker.example"]
        let evil = request(setting: [("Origin", "https://evil.example")])
        #expect(refusal(WebSocketHandshake.serverResponse(to: evil, allowedOrigins: allowed))?.status == 403)
        let good = request(setting: [("Origin", "https://ticker.example")])
        #expect(refusal(WebSocketHandshake.serverResponse(to: good, allowedOrigins: allowed)) == nil)
        #expect(refusal(WebSocketHandshake.serverResponse(to: evil)) == nil, "no allowlist, no origin check")
    }

    @Test func clientRoundTripAgainstServerFunctions() throws {
        let (bytes, key) = WebSocketHandshake.clientRequest(host: "localhost:9000", path: "/feed", extraHeaders: [("Origin", "http://localhost")])
        #expect(Base64.decode(key)?.count == 16)
        var requestParser = HTTPRequestParser()
        guard case .complete(let head, let consumed) = requestParser.append(bytes) else {
            Issue.record("client request did not parse")
            return
        }
        #expect(consumed == bytes.count)
        let response = try WebSocketHandshake.serverResponse(to: head, allowedOrigins: ["http://localhost"]).get()
        var responseParser = HTTPResponseParser()
        guard case .complete(let responseHead, _) = responseParser.append(response.serialize()) else {
            Issue.record("server response did not parse")
            return
        }
        #expect(throws: Never.self) { try WebSocketHandshake.validateServerResponse(responseHead, key: key) }
        #expect(throws: WebSocketClientHandshakeError.badAccept) {
            try WebSocketHandshake.validateServerResponse(responseHead, key: WebSocketHandshake.clientRequest(host: "h", path: "/").key)
        }
    }

    @Test func clientRejectsNon101() {
        let head = HTTPResponseHead(status: 403, reason: "Forbidden", headers: [])
        #expect(throws: WebSocketClientHandshakeError.unexpectedStatus(403)) {
            try WebSocketHandshake.validateServerResponse(head, key: "dGhlIHNhbXBsZSBub25jZQ==")
        }
    }
}
