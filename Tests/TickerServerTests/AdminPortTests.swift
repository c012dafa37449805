import Foundation
import PosixIO
import Testing
import TickerServer

/// `--admin-port`: `/healthz` and `/metrics` on a listener and thread of their
/// own, over real loopback sockets.
@Suite(.serialized) struct AdminPortTests {
    private func get(_ request: String, port: UInt16) throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write(request)
        #expect(try s.read(timeoutMs: 3_000), "the admin port answers and closes")
        return s
    }

    @Test func servesHealthAndMetricsAndNothingElse() async throws {
        try await withServer({ $0.adminPort = 0 }) { server throws in
            let port = try #require(server.adminPort)
            #expect(port != server.port)

            let health = try get("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
            #expect(health.status == 200)
            #expect(health.text.hasSuffix("\r\n\r\nok\n"))
            #expect(health.text.contains("Connection: close\r\n"))

            let head = try get("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
            #expect(head.status == 200)
            #expect(head.text.hasSuffix("\r\n\r\n"), "HEAD gets no body")

            let metrics = try get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("# TYPE ticker_connections gauge"))

            let stream = try get(upgradeRequest(), port: port)
            #expect(stream.status == 404, "no WebSocket on the admin port")
            #expect(stream.text.contains("the admin port serves /healthz, /livez, /readyz and /metrics"))

            let post = try get("POST /healthz HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
            #expect(post.status == 405)

            let garbage = try get("NOT HTTP\r\n\r\n", port: port)
            #expect(garbage.status == 400)
        }
    }

    /// A peer that connects and sends nothing holds the admin thread for at
    /// most its request deadline (1 s); the probe behind it is answered after.
    @Test func aStalledPeerDelaysTheNextProbeByAtMostTheDeadline() async throws {
        try await withServer({ $0.adminPort = 0 }) { server throws in
            let port = try #require(server.adminPort)
            let stalled = try RawSocket(port: port)
            try stalled.write("GET /heal")
            let started = Clock.monotonicNanos()
            let probe = try get("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
            let waitedMs = Double(Clock.monotonicNanos() - started) / 1e6
            #expect(probe.status == 200)
            #expect(waitedMs < 2_500, "waited \(waitedMs) ms")
            #expect(try stalled.read(timeoutMs: 3_000), "the stalled peer is closed at its deadline")
            #expect(stalled.received.isEmpty)
        }
    }

    @Test func aTakenAdminPortIsAClearStartError() async throws {
        try await withServer({ $0.adminPort = 0 }) { server throws in
            var config = ServerConfig()
            config.port = 0
            config.adminPort = server.adminPort
            #expect {
                _ = try TickerServer(config: config)
            } throws: { error in
                "\(error)".contains("admin port \(server.adminPort!) on 127.0.0.1 is already in use")
            }
        }
    }

    @Test func offByDefault() async throws {
        try await withServer { server throws in
            #expect(server.adminPort == nil)
        }
    }
}
