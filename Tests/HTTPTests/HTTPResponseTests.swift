import Testing
import HTTP

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

    /// Every status the server sends (503: capacity refusal) has its RFC 9110 phrase.
    @Test(arguments: [
        (101, "Switching Protocols"), (200, "OK"), (400, "Bad Request"), (401, "Unauthorized"),
        (403, "Forbidden"), (404, "Not Found"), (405, "Method Not Allowed"), (408, "Request Timeout"),
        (426, "Upgrade Required"), (431, "Request Header Fields Too Large"), (503, "Service Unavailable"),
    ])
    func reasonPhraseOfEveryStatusWeSend(_ status: Int, _ phrase: String) {
        #expect(HTTPResponse.reasonPhrase(status) == phrase)
        let line = String(decoding: HTTPResponse(status: status).serialize().prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        #expect(line == "HTTP/1.1 \(status) \(phrase)")
    }

    /// HEAD: the GET's status and headers, `Content-Length` of the GET's body, no body.
    @Test func headAnswerKeepsContentLengthAndDropsTheBody() {
        let response = HTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array("ok\n".utf8))
        let head = String(decoding: response.serialize(includeBody: false), as: UTF8.self)
        #expect(head == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n")
        #expect(response.serialize() == Array(head.utf8) + Array("ok\n".utf8))
    }

    @Test func reasonPhrases() {
        #expect(HTTPResponse.reasonPhrase(426) == "Upgrade Required")
        #expect(HTTPResponse.reasonPhrase(431) == "Request Header Fields Too Large")
        #expect(HTTPResponse.reasonPhrase(799) == "Unknown")
    }
}
