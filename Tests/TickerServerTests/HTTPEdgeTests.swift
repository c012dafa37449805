import Foundation
import PosixIO
import TestSupport
import Testing
@testable import TickerServer
import WebSocketProtocol

/// A raw HTTP answer cut into its parts.
struct RawResponse {
    var statusLine: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    init(_ bytes: [UInt8]) {
        let end = bytes.firstRange(of: Array("\r\n\r\n".utf8))
        let head = String(decoding: bytes[..<(end?.lowerBound ?? bytes.count)], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        statusLine = lines.first ?? ""
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = end.map { Array(bytes[$0.upperBound...]) } ?? []
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// HTTP/1.1 as we serve it: HEAD, 405 with Allow, reason phrases, Host, the
/// bearer scheme, empty `?symbols=` lists and non-HTTP bytes, on loopback.
@Suite(.serialized) struct HTTPEdgeTests {
    func exchange(_ request: String, port: UInt16) throws -> RawSocket {
        try exchange(Array(request.utf8), port: port)
    }

    func exchange(_ request: [UInt8], port: UInt16) throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write(request)
        #expect(try s.read(timeoutMs: 3_000), "the server answers and closes")
        return s
    }

    @Test func headAnswersExactlyLikeGetWithoutTheBody() async throws {
        try await withServer { server throws in
            for path in ["/healthz", "/v1/symbols", "/", "/index.html", "/nope", "/echo", "/v1/stream", "/v1/publish"] {
                let get = RawResponse(try exchange("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).received)
                let head = RawResponse(try exchange("HEAD \(path) HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).received)
                #expect(head.statusLine == get.statusLine, "\(path)")
                #expect(head.headers.map { "\($0.name): \($0.value)" } == get.headers.map { "\($0.name): \($0.value)" }, "\(path)")
                #expect(head.body.isEmpty, "HEAD \(path) has no body")
                #expect(get.header("Content-Length") == String(get.body.count), "\(path)")
            }
            // The metrics text changes between two requests; its answer's shape does not.
            let metrics = RawResponse(try exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).received)
            #expect(metrics.statusLine == "HTTP/1.1 200 OK")
            #expect((Int(metrics.header("Content-Length") ?? "") ?? 0) > 100 && metrics.body.isEmpty)
        }
    }

    /// HEAD never switches protocols: a complete upgrade request gets 400 (and no
    /// 101); a refused one gets the GET's refusal, headers and all.
    @Test func headOnWebSocketPathsNeverUpgrades() async throws {
        try await withServer { server throws in
            let upgrade = "HEAD" + upgradeRequest().dropFirst(3)
            let answer = RawResponse(try exchange(upgrade, port: server.port).received)
            #expect(answer.statusLine == "HTTP/1.1 400 Bad Request")
            #expect(answer.body.isEmpty && answer.header("Content-Length") != nil)

            let wrongVersion = RawResponse(try exchange("HEAD" + upgradeRequest(version: "8").dropFirst(3), port: server.port).received)
            let wrongVersionGet = RawResponse(try exchange(upgradeRequest(version: "8"), port: server.port).received)
            #expect(wrongVersion.statusLine == "HTTP/1.1 426 Upgrade Required")
            #expect(wrongVersion.header("Sec-WebSocket-Version") == "13")
            #expect(wrongVersion.header("Content-Length") == wrongVersionGet.header("Content-Length"))
            #expect(wrongVersion.body.isEmpty)
        }
    }

    @Test func otherMethodsGet405AllowingGetAndHead() async throws {
        try await withServer { server throws in
            for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"] {
                let answer = RawResponse(try exchange("\(method) /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", port: server.port).received)
                #expect(answer.statusLine == "HTTP/1.1 405 Method Not Allowed", "\(method)")
                #expect(answer.header("Allow") == "GET, HEAD", "\(method)")
            }
        }
    }

    /// Every status the server sends, seen on the wire with its RFC 9110 phrase.
    @Test func statusLinesCarryTheirReasonPhrases() async throws {
        try await withServer({
            $0.publishToken = "s3cret"
            $0.allowedOrigins = ["http://good.example"]
            $0.handshakeTimeoutMs = 300
        }) { server throws in
            let cases: [(request: String, line: String)] = [
                ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK"),
                ("GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"),
                (upgradeRequest(path: "/v1/publish"), "HTTP/1.1 401 Unauthorized"),
                (upgradeRequest(extra: "Origin: http://evil.example\r\n"), "HTTP/1.1 403 Forbidden"),
                ("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found"),
                ("PUT /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"),
                ("", "HTTP/1.1 408 Request Timeout"),
                (upgradeRequest(version: "8"), "HTTP/1.1 426 Upgrade Required"),
                ("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 9_000))\r\n\r\n",
                 "HTTP/1.1 431 Request Header Fields Too Large"),
            ]
            for (request, line) in cases {
                let answer = RawResponse(try exchange(request, port: server.port).received)
                #expect(answer.statusLine == line)
            }
        }
    }

    /// RFC 9112 §3.2: an HTTP/1.1 request without Host, or any with two, is a 400;
    /// HTTP/1.0 may omit it (plain routes only: the upgrade needs 1.1).
    @Test func hostIsRequiredFromHTTP11On() async throws {
        try await withServer { server throws in
            #expect(try exchange("GET /healthz HTTP/1.1\r\n\r\n", port: server.port).status == 400)
            #expect(try exchange("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", port: server.port).status == 400)
            let old = try exchange("GET /healthz HTTP/1.0\r\n\r\n", port: server.port)
            #expect(old.status == 200 && old.text.hasSuffix("\r\n\r\nok\n"))
            let oldUpgrade = upgradeRequest().replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0")
            #expect(try exchange(oldUpgrade, port: server.port).status == 400)
        }
    }

    /// RFC 9110 §11.1: auth scheme names are case-insensitive.
    @Test func bearerSchemeIsCaseInsensitive() async throws {
        try await withServer({ $0.publishToken = "s3cret" }) { server throws in
            for authorization in ["Bearer s3cret", "bearer s3cret", "BEARER s3cret", "bEaReR  s3cret"] {
                let s = try RawSocket(port: server.port)
                try s.write(upgradeRequest(path: "/v1/publish", extra: "Authorization: \(authorization)\r\n"))
                try s.read(timeoutMs: 2_000) { $0.count > 12 }
                #expect(s.status == 101, "\(authorization)")
            }
            for authorization in ["Bearer wrong", "Basic s3cret", "Bearers3cret", "Bearer ", "Bearer\ts3cret"] {
                let s = try exchange(upgradeRequest(path: "/v1/publish", extra: "Authorization: \(authorization)\r\n"), port: server.port)
                #expect(s.status == 401, "\(authorization)")
            }
        }
    }

    /// `?symbols=` naming nothing is the same as no parameter: no subscription and
    /// no reply; a JSON subscribe with an empty list is `bad_request`.
    @Test func symbolListNamingNothingSubscribesNothing() async throws {
        try await withServer { server throws in
            for query in ["symbols=", "symbols=,,,", "symbols=%20,+,%20%20"] {
                let s = try RawSocket(port: server.port)
                try s.write(upgradeRequest(path: "/v1/stream?\(query)"))
                try s.read(timeoutMs: 2_000) { serverFrames(after: $0).count >= 1 }
                try s.read(timeoutMs: 300)   // anything else the server would say
                let texts = serverFrames(after: s.received).map { String(decoding: $0.payload, as: UTF8.self) }
                #expect(texts.count == 1 && texts[0].contains(#""type":"welcome""#), "\(query): \(texts)")

                try s.write(maskedFrame(.text, Array(#"{"op":"subscribe","id":7,"symbols":[]}"#.utf8)))
                try s.read(timeoutMs: 2_000) { serverFrames(after: $0).count >= 2 }
                let reply = serverFrames(after: s.received).dropFirst().first.map { String(decoding: $0.payload, as: UTF8.self) } ?? ""
                #expect(reply.contains(#""code":"bad_request""#) && reply.contains(#""id":7"#), "\(reply)")
            }
            // Empty names between real ones are skipped.
            let s = try RawSocket(port: server.port)
            try s.write(upgradeRequest(path: "/v1/stream?symbols=,AAPL,,%20"))
            try s.read(timeoutMs: 2_000) { serverFrames(after: $0).count >= 2 }
            let subscribed = serverFrames(after: s.received).dropFirst().first.map { String(decoding: $0.payload, as: UTF8.self) } ?? ""
            #expect(subscribed == #"{"type":"subscribed","symbols":[{"symbol":"AAPL","id":0}]}"#)
        }
    }

    /// A TLS ClientHello (or any bytes that cannot start a request line) on the plain
    /// port gets 400 and a close at once, not at the 10 s handshake deadline.
    @Test func nonHTTPBytesGetAnImmediate400() async throws {
        try await withServer { server throws in
            let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4, 0x03, 0x03] + Array(repeating: 0x5A, count: 64)
            for garbage in [hello, [0x00, 0xFF, 0x13, 0x37], Array("SSH-2.0-OpenSSH_9.6\r\n".utf8)] {
                let started = Date()
                let s = try exchange(garbage, port: server.port)
                let elapsed = Date().timeIntervalSince(started)
                #expect(s.sawEOF && s.status == 400)
                #expect(elapsed < 1, "answered after \(elapsed) s")
            }
        }
    }
}

/// One server per port: the port is claimed without SO_REUSEPORT first, so a
/// second server cannot join the first one's listener group.
@Suite(.serialized) struct ListenerClaimTests {
    @Test func secondServerOnTheSamePortThrows() async throws {
        try await withServer { server throws in
            for loops in [1, 2] {
                var config = ServerConfig()
                config.port = server.port
                config.loops = loops
                do {
                    _ = try TickerServer(config: config)
                    Issue.record("a second server started on port \(server.port)")
                } catch let error as TickerServerError {
                    guard case .portInUse(_, let port) = error else {
                        Issue.record("unexpected error: \(error)")
                        continue
                    }
                    #expect(port == server.port)
                    #expect(error.description.contains("port \(server.port) "))
                }
            }
            // The first server is untouched.
            let s = try RawSocket(port: server.port)
            try s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try s.read(timeoutMs: 2_000)
            #expect(s.status == 200)
        }
    }

    /// The claim joins the loops' SO_REUSEPORT group: connections still spread
    /// over every loop's listener.
    @Test func listenersShareThePortAndTheLoad() throws {
        var config = ServerConfig()
        config.port = 0
        config.loops = 3
        let (fds, port) = try TickerServer.openListeners(config)
        defer { for fd in fds { Syscall.close(fd) } }
        #expect(fds.count == 3)
        let clients = try (0..<60).map { _ in try RawSocket(port: port) }
        var counts = [Int](repeating: 0, count: fds.count)
        let deadline = Date().addingTimeInterval(3)
        while counts.reduce(0, +) < clients.count && Date() < deadline {
            for (i, fd) in fds.enumerated() {
                while let accepted = try Syscall.accept(fd) {
                    counts[i] += 1
                    Syscall.close(accepted)
                }
            }
            usleep(5_000)
        }
        #expect(counts.reduce(0, +) == clients.count)
        #expect(counts.allSatisfy { $0 > 0 }, "per listener: \(counts)")
    }

    /// The real binary, twice on one port: the second exits non-zero at once with
    /// one line naming the port.
    @Test func secondServeProcessFailsNamingThePort() async throws {
        try await gated(.exclusive) {
            let first = try ServerProcess(["--loops", "2"])
            defer { first.stop() }
            let second = try CLI.run(["serve", "--port", String(first.port), "--loops", "2"], timeout: 20)
            #expect(second.status != 0)
            #expect(second.stderr == "ticker: port \(first.port) on 127.0.0.1 is already in use (is another ticker serve running?); pick another with --port\n")
        }
    }
}
