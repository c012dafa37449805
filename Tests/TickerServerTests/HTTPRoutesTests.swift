import Foundation
import Testing
import TickerServer

/// Plain HTTP routes and handshake rejections, over real loopback sockets.
@Suite(.serialized) struct HTTPRoutesTests {
    func get(_ request: String, port: UInt16) throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write(request)
        #expect(try s.read(timeoutMs: 3_000), "the server answers and closes")
        return s
    }

    @Test func healthzSymbolsMetricsAndDashboard() async throws {
        try await withServer { server throws in
            let health = try get("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
            #expect(health.status == 200)
            #expect(health.text.hasSuffix("\r\n\r\nok\n"))

            let symbols = try get("GET /v1/symbols HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
            #expect(symbols.status == 200)
            let body = symbols.text.components(separatedBy: "\r\n\r\n")[1]
            let list = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]])
            #expect(list.count >= 500)
            #expect(list.first?["symbol"] as? String != nil)

            let metrics = try get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("# TYPE ticker_connections gauge"))

            let page = try get("GET / HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
            #expect(page.status == 200)
            #expect(page.text.contains("text/html"))
        }
    }

    /// The page's script modules and stylesheet: right type, revalidated by ETag, 304 without a body.
    @Test func dashboardAssetsWithTypesAndRevalidation() async throws {
        try await withServer { server throws in
            func field(_ s: RawSocket, _ name: String) -> String? {
                let head = s.text.components(separatedBy: "\r\n\r\n")[0]
                for line in head.components(separatedBy: "\r\n") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                        return parts[1].trimmingCharacters(in: .whitespaces)
                    }
                }
                return nil
            }
            let page = try get("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
            #expect(page.status == 200)
            #expect(page.text.contains("assets/app.js"))
            for (path, type) in [("/assets/ticker-client.js", "text/javascript; charset=utf-8"),
                                 ("/assets/app.js", "text/javascript; charset=utf-8"),
                                 ("/assets/dashboard.css", "text/css; charset=utf-8")] {
                let s = try get("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
                #expect(s.status == 200, "\(path)")
                #expect(field(s, "Content-Type") == type, "\(path)")
                #expect(field(s, "Cache-Control") == "no-cache", "\(path)")
                let etag = try #require(field(s, "ETag"), "\(path)")
                let again = try get("GET \(path) HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\n\r\n", port: server.port)
                #expect(again.status == 304, "\(path)")
                #expect(again.text.hasSuffix("\r\n\r\n"), "304 has no body")
            }
            #expect(try get("GET /assets/nope.js HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).status == 404)
            #expect(try get("GET /assets/../Package.swift HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).status
                .map { $0 == 404 || $0 == 400 } == true)
        }
    }

    @Test func unknownPathWrongMethodAndTraversal() async throws {
        try await withServer { server throws in
            #expect(try get("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).status == 404)
            #expect(try get("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).status.map { $0 == 404 || $0 == 400 } == true)
            #expect(try get("GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).status.map { $0 == 404 || $0 == 400 } == true)
            #expect(try get("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", port: server.port).status.map { $0 == 405 || $0 == 400 } == true)
            #expect(try get("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).status == 404, "echo is off by default")
            #expect(try get("GET /v1/publish HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port).status == 404, "ingest is off by default")
        }
    }

    @Test func malformedRequestGets400() async throws {
        try await withServer { server throws in
            #expect(try get("HELLO\r\n\r\n", port: server.port).status == 400)
            #expect(try get("GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", port: server.port).status == 400)
        }
    }

    @Test func badUpgradesAreRejectedWithTheRightStatus() async throws {
        try await withServer { server throws in
            let v8 = try get(upgradeRequest(version: "8"), port: server.port)
            #expect(v8.status == 426)
            #expect(v8.text.lowercased().contains("sec-websocket-version: 13"))

            let noUpgrade = "GET /v1/stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            #expect(try get(noUpgrade, port: server.port).status == 400)

            let badKey = "GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"
            #expect(try get(badKey, port: server.port).status == 400)
        }
    }

    @Test func oversizedHeaderBlockGets431() async throws {
        try await withServer { server throws in
            let big = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: \(String(repeating: "a", count: 9_000))\r\n\r\n"
            let s = try get(big, port: server.port)
            #expect(s.status == 431 || s.status == 400)
            var many = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
            for i in 0..<150 { many += "X-H\(i): v\r\n" }
            #expect(try get(many + "\r\n", port: server.port).status.map { $0 == 431 || $0 == 400 } == true)
        }
    }

    @Test func crossSiteOriginIsForbiddenWhenAllowlisted() async throws {
        try await withServer({ $0.allowedOrigins = ["http://good.example"] }) { server throws in
            #expect(try get(upgradeRequest(extra: "Origin: http://evil.example\r\n"), port: server.port).status == 403)
            let ok = try RawSocket(port: server.port)
            try ok.write(upgradeRequest(extra: "Origin: http://good.example\r\n"))
            try ok.read(timeoutMs: 2_000) { $0.count > 12 }
            #expect(ok.status == 101)
        }
    }

    /// Slowloris: a request head trickled a byte at a time is cut off at the
    /// absolute deadline, however steadily the bytes come.
    @Test func trickledHandshakeIsClosedAtItsDeadline() async throws {
        try await withServer({ $0.handshakeTimeoutMs = 1_000 }) { server throws in
            let s = try RawSocket(port: server.port)
            let started = Date()
            let request = Array(upgradeRequest().utf8)
            var closed = false
            for byte in request {
                do { try s.write([byte]) } catch { closed = true; break }
                if try s.read(timeoutMs: 100) { closed = true; break }
                if Date().timeIntervalSince(started) > 5 { break }
            }
            if !closed { closed = try s.read(timeoutMs: 2_000) }
            let elapsed = Date().timeIntervalSince(started)
            #expect(closed, "closed by the server")
            #expect(elapsed >= 0.9 && elapsed < 2.5, "closed at the 1 s deadline, after \(elapsed) s")
            #expect(s.status == 408 || s.received.isEmpty)
            #expect(try metric("ticker_handshake_timeouts_total", port: server.port) == 1)
        }
    }
}
