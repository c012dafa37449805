import Testing
import HTTP

@Suite struct HTTPResponseParserTests {
    @Test func parsesStatusHeadersAndLeavesFollowingBytes() {
        let head = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
        var parser = HTTPResponseParser()
        guard case .complete(let response, let consumed) = parser.append(head + [0x81, 0x00]) else {
            Issue.record("not complete")
            return
        }
        #expect(consumed == head.count)
        #expect(response.status == 101 && response.reason == "Switching Protocols")
        #expect(response.header("connection") == "Upgrade")
    }

    @Test func reasonMayBeEmpty() {
        var parser = HTTPResponseParser()
        guard case .complete(let response, _) = parser.append(Array("HTTP/1.1 200 \r\n\r\n".utf8)) else {
            Issue.record("not complete")
            return
        }
        #expect(response.status == 200 && response.reason == "")
    }

    @Test(arguments: ["HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1\r\n\r\n"])
    func malformedStatusLine(_ text: String) {
        var parser = HTTPResponseParser()
        guard case .failed(let error) = parser.append(Array(text.utf8)) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(error.status == 400)
    }
}
