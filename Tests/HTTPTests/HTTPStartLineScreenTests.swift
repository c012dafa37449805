import SplitMix
import TestSupport
import Testing
import HTTP

/// Non-HTTP bytes on the plain port fail on their first impossible byte, and the
/// screen never refuses a line the full parser would accept.
@Suite struct HTTPStartLineScreenTests {
    /// Feeds `bytes` one at a time; returns how many went in when the parser failed
    /// (nil if it never failed).
    private func failurePoint(_ bytes: [UInt8]) -> (at: Int, status: Int)? {
        var parser = HTTPRequestParser()
        for (index, byte) in bytes.enumerated() {
            if case .failed(let error) = parser.append([byte]) { return (index + 1, error.status) }
        }
        return nil
    }

    @Test func tlsClientHelloFailsOnItsFirstByte() {
        // Record type 0x16 (handshake), TLS 1.0 record version, length, ClientHello (1), ...
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + Array(repeating: 0xAB, count: 32)
        let failure = failurePoint(hello)
        #expect(failure?.at == 1 && failure?.status == 400)
        // Whole, as one read delivers it.
        var parser = HTTPRequestParser()
        guard case .failed(let error) = parser.append(hello) else {
            Issue.record("a ClientHello was not refused")
            return
        }
        #expect(error.status == 400)
    }

    @Test(arguments: [
        ([0x00, 0x01, 0x02], 1),  // binary zeros
        (Array("SSH-2.0-OpenSSH_9.6\r\n".utf8), 20),  // a banner: a token, then CR where a space must come
        (Array("*1\r\n$4\r\nPING\r\n".utf8), 3),  // RESP: `*1` could be a method, CR cannot follow it
        (Array(" GET / HTTP/1.1\r\n".utf8), 1),  // leading space
        (Array("GET /a b HTTP/1.1\r\n".utf8), 8),  // a space inside the target
        (Array("GET / FTP/1.1\r\n".utf8), 7),
        (Array("GET / HTTP/1.1 \r\n".utf8), 15),  // anything after the version
        (Array("GET /\u{7F} HTTP/1.1\r\n".utf8), 6),  // DEL in the target
    ] as [([UInt8], Int)])
    func garbageFailsWhereItStopsBeingHTTP(_ bytes: [UInt8], at expected: Int) {
        let failure = failurePoint(bytes)
        #expect(failure?.at == expected, "failed after \(failure?.at ?? -1) bytes")
        #expect(failure?.status == 400)
    }

    @Test(arguments: [
        "GET /v1/stream?symbols=AAPL,MSFT HTTP/1.1\r\nHost: a\r\n\r\n",
        "HEAD / HTTP/1.0\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET http://a:8080/x HTTP/1.1\r\nHost: a:8080\r\n\r\n",
        "M-SEARCH /%2e%2e/caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n",  // tchar method, non-ASCII target bytes
    ])
    func validRequestsPassByteByByte(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(failurePoint(bytes) == nil)
        var screen = HTTPStartLineScreen.requestLine
        let lineLength = bytes.firstIndex(of: UInt8(ascii: "\n"))! + 1
        for byte in bytes[..<lineLength] {
            let accepted = screen.accept(byte)
            #expect(accepted)
        }
        #expect(screen.isFinished)
    }

    /// The screen is a prefix check of the request-line grammar: on random lines over
    /// an alphabet that hits every state, whatever `make` accepts, the parser accepts.
    @Test func neverRefusesWhatTheFullParserAccepts() {
        let alphabet: [UInt8] = Array("GET /HTP1.0x*\t".utf8) + [0x16, 0x7F, 0xC3, 0x0D]
        var generator = SplitMix64(seed: 2024)
        var accepted = 0
        for round in 0..<20_000 {
            var line: [UInt8]
            if round % 2 == 0 {
                // Mutations of a valid line reach the deep states often.
                line = Array("GET /x HTTP/1.1".utf8)
                let index = Int.random(in: 0..<line.count, using: &generator)
                line[index] = alphabet.randomElement(using: &generator)!
            } else {
                line = (0..<Int.random(in: 1...16, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            }
            let fields = [(name: "Host", value: "a")]
            let direct = HTTPRequestHead.make(firstLine: String(decoding: line, as: UTF8.self), fields: fields)
            var parser = HTTPRequestParser()
            let parsed = parser.append(line + Array("\r\nHost: a\r\n\r\n".utf8))
            // Control characters fail in the head reader whatever the screen says.
            if case .success = direct, !line.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                accepted += 1
                guard case .complete = parsed else {
                    Issue.record("refused a line make() accepts: \(line)")
                    return
                }
            }
        }
        #expect(accepted > 100, "the generator reached valid lines")
    }

    @Test func responsesAreNotScreened() {
        var parser = HTTPResponseParser()
        #expect(parser.append([0x16, 0x03, 0x01]).isNeedMoreResponse)
    }
}

extension HTTPResponseParser.Result {
    fileprivate var isNeedMoreResponse: Bool {
        if case .needMore = self { return true }
        return false
    }
}
