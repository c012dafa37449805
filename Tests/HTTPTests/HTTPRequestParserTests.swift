import Testing
import HTTP

let upgradeRequest = """
    GET /feed?symbols=AAPL HTTP/1.1\r
    Host: example.com:8080\r
    Upgrade: websocket\r
    Connection: keep-alive, Upgrade\r
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
    Sec-WebSocket-Version: 13\r
    Origin: http://example.com\r
    \r

    """

private func parse(_ text: String, maxHeaderBytes: Int = 8192) -> HTTPRequestParser.Result {
    var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes)
    return parser.append(Array(text.utf8))
}

private func failureStatus(_ result: HTTPRequestParser.Result) -> Int? {
    if case .failed(let error) = result { return error.status }
    return nil
}

@Suite struct HTTPRequestParserTests {
    @Test func parsesUpgradeRequest() throws {
        guard case .complete(let head, let consumed) = parse(upgradeRequest) else {
            Issue.record("not complete")
            return
        }
        #expect(consumed == upgradeRequest.utf8.count)
        #expect(head.method == "GET" && head.version == "HTTP/1.1")
        #expect(head.path == "/feed" && head.query == "symbols=AAPL")
        #expect(head.header("upgrade") == "websocket")
        #expect(head.header("SEC-WEBSOCKET-KEY") == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(head.header("Missing") == nil)
        #expect(head.headers.count == 6)
    }

    @Test func firstFrameInTheSameBufferIsLeftToTheCaller() {
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        var parser = HTTPRequestParser()
        let head = Array(upgradeRequest.utf8)
        #expect(parser.append(Array(head.prefix(20))).isNeedMore)
        let rest = Array(head.dropFirst(20)) + frame
        guard case .complete(_, let consumed) = parser.append(rest) else {
            Issue.record("not complete")
            return
        }
        #expect(consumed == head.count - 20)
        #expect(Array(rest[consumed...]) == frame)
    }

    @Test func headSplitByteByByte() {
        var parser = HTTPRequestParser()
        let bytes = Array(upgradeRequest.utf8)
        for byte in bytes.dropLast() {
            #expect(parser.append([byte]).isNeedMore)
        }
        guard case .complete(let head, let consumed) = parser.append([bytes.last!]) else {
            Issue.record("not complete")
            return
        }
        #expect(consumed == 1)
        #expect(head.target == "/feed?symbols=AAPL")
    }

    @Test func headerBlockOverTheLimitIs431() {
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "x", count: 9000))\r\n\r\n"
        #expect(failureStatus(parse(big)) == 431)
        // Trickled: the limit holds however the bytes arrive, and nothing past it is buffered.
        var parser = HTTPRequestParser(maxHeaderBytes: 64)
        var last: HTTPRequestParser.Result = .needMore
        for byte in big.utf8 {
            last = parser.append([byte])
            if !last.isNeedMore { break }
        }
        #expect(failureStatus(last) == 431)
    }

    @Test func tooManyHeadersIs431() {
        let headers = (0..<100).map { "X-H\($0): v\r\n" }.joined()
        #expect(failureStatus(parse("GET / HTTP/1.1\r\nHost: a\r\n\(headers)\r\n")) == 431)
        let fine = (0..<99).map { "X-H\($0): v\r\n" }.joined()
        #expect(!parse("GET / HTTP/1.1\r\nHost: a\r\n\(fine)\r\n").isFailed)
    }

    @Test(arguments: [
        "GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 extra\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
        "\r\n\r\n", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", "GET / HTTP/2\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nX: y\r\n\r\n", // HTTP/1.1 without Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n", // bare LF
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n", // space before colon
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", // obsolete line folding
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nX: a\u{1}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    ])
    func malformedIs400(_ text: String) {
        #expect(failureStatus(parse(text)) == 400)
    }

    /// RFC 9112 §3.2: Host is required from HTTP/1.1 on; HTTP/1.0 predates it.
    @Test func http10WithoutHostIsAccepted() throws {
        guard case .complete(let head, _) = parse("GET /healthz HTTP/1.0\r\n\r\n") else {
            Issue.record("HTTP/1.0 without Host refused")
            return
        }
        #expect(head.version == "HTTP/1.0" && head.header("Host") == nil)
        #expect(!parse("GET / HTTP/1.0\r\nHost: a\r\n\r\n").isFailed)
        // An empty Host is legal (RFC 9112 §3.2, a target without authority).
        #expect(!parse("GET / HTTP/1.1\r\nHost:\r\n\r\n").isFailed)
    }

    @Test func emptyBodyLengthIsAccepted() {
        #expect(!parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").isFailed)
    }

    @Test func resultIsFinal() {
        var parser = HTTPRequestParser()
        #expect(parser.append(Array("BAD\r\n\r\n".utf8)).isFailed)
        #expect(parser.append(Array(upgradeRequest.utf8)).isFailed)
    }
}

extension HTTPRequestParser.Result {
    var isNeedMore: Bool {
        if case .needMore = self { return true }
        return false
    }

    var isFailed: Bool {
        if case .failed = self { return true }
        return false
    }
}
