import Auth
import Foundation
import GatewayHarness
import TestSupport
import Testing
import TickerClient
import TickerServer

/// Issue 23: SIGHUP to the real `ticker` process re-reads the keys (rotation;
/// a file that does not parse keeps the old keys and says why) and the
/// revoked subjects (their connections closed with 4401 within a second).
@Suite(.serialized) struct AuthReloadTests {
    private func write(_ path: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    private func upgradeStatus(_ port: UInt16, _ token: String) throws -> Int? {
        let s = try RawSocket(port: port)
        defer { s.close() }
        try s.write(upgradeRequest(extra: "Authorization: Bearer \(token)\r\n"))
        _ = try s.read(timeoutMs: 3_000) { $0.firstRange(of: Array("\r\n\r\n".utf8)) != nil }
        return s.status
    }

    /// The limit covers the wait for the exclusive gate behind the long suites.
    @Test(.timeLimit(.minutes(10)))
    func sighupRotatesKeysKeepsThemOnABadFileAndRevokes() async throws {
        let dir = NSTemporaryDirectory() + "ticker-auth-reload-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = "\(dir)/keys", revoked = "\(dir)/revoked"
        let k2 = Array("another secret, for the new key.".utf8)
        write(keys, try String(contentsOfFile: AuthUpgradeTests.keysFile, encoding: .utf8))
        write(revoked, "")
        try await gated(.exclusive) {
            let server = try ServerProcess(["--auth-keys", keys, "--revoked", revoked])
            defer { server.stop() }
            let pid = server.process.processIdentifier
            func hangUp() { kill(pid, SIGHUP); usleep(300_000) }
            func k2Token(_ sub: String) -> String {
                TokenMinter.mint(TokenClaims(subject: sub, expiresAt: AuthUpgradeTests.now + 600, symbols: ["*"]), kid: "k2", secret: k2)
            }

            // Rotation: k1 and k2 side by side, then k2 alone.
            #expect(try upgradeStatus(server.port, k2Token("zoe")) == 401)
            write(keys, try String(contentsOfFile: AuthUpgradeTests.keysFile, encoding: .utf8) + "k2:\(Data(k2).base64EncodedString())\n")
            hangUp()
            #expect(try upgradeStatus(server.port, k2Token("zoe")) == 101)
            #expect(try upgradeStatus(server.port, AuthUpgradeTests.token("zoe")) == 101)
            write(keys, "k2:\(Data(k2).base64EncodedString())\n")
            hangUp()
            #expect(try upgradeStatus(server.port, AuthUpgradeTests.token("zoe")) == 401, "k1 retired")
            // A file that does not parse keeps k2, and the log names the line.
            write(keys, "k3 has no colon\n")
            hangUp()
            #expect(try upgradeStatus(server.port, k2Token("zoe")) == 101)
            #expect(server.log.contains("auth keys not reloaded, the previous keys stay"), "\(server.log.suffix(400))")

            // Revocation: zed's connection closes with 4401 within a second of SIGHUP.
            let zed = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port),
                                       extraHeaders: [("Authorization", "Bearer \(k2Token("zed"))")])
            try zed.subscribe(["AAPL"])
            _ = try zed.next(timeoutMs: 1_000)
            write(revoked, "# revoked\nzed\n")
            let sent = Date()
            kill(pid, SIGHUP)
            var code: UInt16?
            while code == nil, Date().timeIntervalSince(sent) < 3, let event = try zed.next(timeoutMs: 200) ?? .some(.unknownText("")) {
                if case .closed(let c) = event { code = c?.rawValue }
            }
            #expect(code == 4401)
            #expect(Date().timeIntervalSince(sent) < 1.0, "closed \(Date().timeIntervalSince(sent)) s after SIGHUP")
            #expect(try upgradeStatus(server.port, k2Token("zed")) == 401)
        }
    }
}

/// Issue 23: the same rules on the scale-out nodes: `ticker feed
/// --auth-keys` takes ingest from `publish` tokens (the shared token stays
/// the simple option), and a gateway refuses `/v1/publish` as before.
@Suite(.serialized, .enabled(if: RedisServer.isAvailable, Comment(rawValue: RedisServer.skipReason)))
struct AuthScaleOutTests {
    private func upgradeStatus(_ port: UInt16, path: String, _ token: String) throws -> Int? {
        let s = try RawSocket(port: port)
        defer { s.close() }
        try s.write(upgradeRequest(path: path, extra: "Authorization: Bearer \(token)\r\n"))
        _ = try s.read(timeoutMs: 3_000) { $0.firstRange(of: Array("\r\n\r\n".utf8)) != nil }
        return s.status
    }

    @Test(.timeLimit(.minutes(10)))   // includes the wait for the exclusive gate
    func feedNodeTakesPublishTokensAndGatewaysTakeNoIngest() async throws {
        try await gated(.exclusive) {
            let keys = AuthUpgradeTests.keysFile
            let cluster = try GatewayCluster<ServerProcess>(
                gateways: 1, symbols: nil, feed: ["--no-feed", "--auth-keys", keys], gateway: ["--auth-keys", keys])
            defer { cluster.stop() }
            let (feed, gateway) = (cluster.feed, cluster.gateways[0])
            let publisher = AuthUpgradeTests.token("feed-handler", symbols: ["AAPL"], role: .publish)
            #expect(try upgradeStatus(feed.port, path: "/v1/publish", publisher) == 101)
            #expect(try upgradeStatus(feed.port, path: "/v1/publish", AuthUpgradeTests.token()) == 403, "a subscribe token")
            #expect(try upgradeStatus(gateway.port, path: "/v1/publish", publisher) == 404, "gateways take no ingest")
            #expect(try upgradeStatus(gateway.port, path: "/v1/stream", AuthUpgradeTests.token()) == 101)
            #expect(try upgradeStatus(gateway.port, path: "/v1/stream", publisher) == 403)
        }
    }
}
