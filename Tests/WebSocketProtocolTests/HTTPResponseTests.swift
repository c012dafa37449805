import Testing
import WebSocketProtocol

@Suite struct HTTPResponseTests {
    @Test func serializesWithContentLength() {
        let response = HTTPResponse(status: 404, headers: [("Content-Type", "text/plain")], body: Array("nope".utf8))
        #expect(String(decoding: response.serialize(), as: UTF8.self)
            == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope")
    }

    @Test func switchingProtocolsHasNoContentLength() {
        let response = HTTPResponse(status: 101, headers: [("Upgrade", "websocket")], body: [])
        #expect(String(decoding: response.serialize(), as: UTF8.self) == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
    }

    @Test func reasonPhrases() {
        #expect(HTTPResponse.reasonPhrase(426) == "Upgrade Required")
        #expect(HTTPResponse.reasonPhrase(431) == "Request Header Fields Too Large")
        #expect(HTTPResponse.reasonPhrase(799) == "Unknown")
    }
}
