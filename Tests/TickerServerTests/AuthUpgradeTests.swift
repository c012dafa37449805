import Auth
import Foundation
import MarketData
import PosixIO
import Testing
import TickerClient
import TickerServer
import WebSocketProtocol

/// Issue 23 on a live server (`--auth-keys`): tokens at the upgrade (401 by
/// header, close 4401 by `?token=`), roles, `max_conns`, entitlements,
/// `/metrics` for admins, refresh, expiry and revocation.
@Suite(.serialized) struct AuthUpgradeTests {
    static let secret = Array("a test secret of thirty-two bytes".utf8)
    static let keysFile: String = {
        let path = NSTemporaryDirectory() + "ticker-auth-keys-\(getpid())"
        let base64 = Data(secret).base64EncodedString()
        _ = FileManager.default.createFile(atPath: path, contents: Data("# test keys\nk1:\(base64)\n".utf8))
        return path
    }()

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    static func token(_ sub: String = "alice", symbols: [String] = ["*"], role: TokenRole = .subscribe,
                      ttl: Int64 = 600, nbf: Int64? = nil, maxConns: Int? = nil, kid: String = "k1") -> String {
        TokenMinter.mint(TokenClaims(subject: sub, expiresAt: now + ttl, notBefore: nbf, issuedAt: now,
                                     symbols: symbols, maxConnections: maxConns, role: role),
                         kid: kid, secret: secret)
    }

    private func withAuthServer<T>(revoked: String? = nil, _ body: (TickerServer) throws -> T) async throws -> T {
        try await withServer({ config in
            config.authKeysPath = Self.keysFile
            config.revokedPath = revoked
        }, body)
    }

    /// The upgrade with the token in `Authorization`: the status line and head.
    private func upgrade(port: UInt16, header token: String?, path: String = "/v1/stream") throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write(upgradeRequest(path: path, extra: token.map { "Authorization: Bearer \($0)\r\n" } ?? ""))
        _ = try s.read(timeoutMs: 3_000) { $0.firstRange(of: Array("\r\n\r\n".utf8)) != nil }
        return s
    }

    /// The upgrade with the token in `?token=`: the close code the server ended with.
    private func closeCode(port: UInt16, query token: String?) throws -> (status: Int?, close: UInt16?, reason: String) {
        let s = try RawSocket(port: port)
        defer { s.close() }
        let path = token.map { "/v1/stream?token=\($0)" } ?? "/v1/stream"
        try s.write(upgradeRequest(path: path))
        _ = try s.read(timeoutMs: 3_000) { bytes in serverFrames(after: bytes).contains { $0.header.opcode == .close } }
        let close = serverFrames(after: s.received).first { $0.header.opcode == .close }
        let reason = close.map { String(decoding: $0.payload.dropFirst(2), as: UTF8.self) } ?? ""
        return (s.status, close.flatMap { TickerServerTests.closeCode(of: $0) }, reason)
    }

    @Test func badTokensAre401ByHeaderAnd4401ByQuery() async throws {
        let good = Self.token()
        let parts = good.split(separator: ".").map(String.init)
        func tamper(_ part: String) -> String {   // flips one base64url character
            var chars = Array(part)
            chars[chars.count / 2] = chars[chars.count / 2] == "A" ? "B" : "A"
            return String(chars)
        }
        let header = { (json: String) in Base64URL.encode(Array(json.utf8)) }
        let bad: [(String, String)] = [
            ("changed header", "\(tamper(parts[0])).\(parts[1]).\(parts[2])"),
            ("changed payload", "\(parts[0]).\(tamper(parts[1])).\(parts[2])"),
            ("changed signature", "\(parts[0]).\(parts[1]).\(tamper(parts[2]))"),
            ("alg none", "\(header(#"{"alg":"none","kid":"k1"}"#)).\(parts[1])."),
            ("alg HS512", "\(header(#"{"alg":"HS512","kid":"k1"}"#)).\(parts[1]).\(parts[2])"),
            ("unknown kid", Self.token(kid: "k9")),
            ("expired", Self.token(ttl: -5)),
            ("not yet valid", Self.token(nbf: Self.now + 300)),
        ]
        try await withAuthServer { server in
            for (what, token) in bad {
                let s = try upgrade(port: server.port, header: token)
                #expect(s.status == 401, "\(what): \(s.text.prefix(120))")
                #expect(s.text.contains("WWW-Authenticate: Bearer error=\"invalid_token\", error_description=\""), "\(what)")
                s.close()
                let q = try closeCode(port: server.port, query: token)
                #expect(q.status == 101 && q.close == 4401, "\(what): \(q)")
            }
            let missing = try closeCode(port: server.port, query: nil)
            #expect(missing.close == 4401 && missing.reason.contains("token is required"), "\(missing)")
            let ok = try upgrade(port: server.port, header: good)
            #expect(ok.status == 101)
            ok.close()
            #expect(try metric("ticker_auth_refusals_total{reason=\"signature\"}", port: server.port, token: Self.token(role: .admin)) ?? 0 >= 2)
        }
    }

    @Test func rolesAndMaxConnsHaveTheirOwnAnswers() async throws {
        try await withAuthServer { server in
            let publisher = Self.token(role: .publish)
            #expect(try upgrade(port: server.port, header: publisher).status == 403)
            #expect(try closeCode(port: server.port, query: publisher).close == 4403)

            let limited = Self.token("bob", maxConns: 2)
            let a = try upgrade(port: server.port, header: limited), b = try upgrade(port: server.port, header: limited)
            #expect(a.status == 101 && b.status == 101)
            let third = try upgrade(port: server.port, header: limited)
            #expect(third.status == 429 && third.text.contains("max_conns 2"), "\(third.text.prefix(200))")
            #expect(try closeCode(port: server.port, query: limited).close == 4429)
            a.close()
            #expect(try eventually(timeoutMs: 2_000) { try upgrade(port: server.port, header: limited).status == 101 },
                    "a closed connection gives its slot back")
        }
    }

    @Test func metricsNeedAnAdminTokenAndTheOpenPathsStayOpen() async throws {
        try await withAuthServer { server in
            func get(_ path: String, _ token: String?) throws -> RawSocket {
                let s = try RawSocket(port: server.port)
                try s.write("GET \(path) HTTP/1.1\r\nHost: x\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")\r\n")
                try s.read(timeoutMs: 3_000)
                return s
            }
            #expect(try get("/metrics", nil).status == 401)
            #expect(try get("/metrics", Self.token()).status == 403)
            let admin = try get("/metrics", Self.token(role: .admin))
            #expect(admin.status == 200 && admin.text.contains("ticker_auth_subjects"))
            for path in ["/healthz", "/livez", "/readyz", "/v1/symbols", "/", "/assets/app.js"] {
                #expect(try get(path, nil).status == 200, "\(path) needs no token")
            }
        }
    }
}

/// Issue 23: `/v1/publish` with auth on: `publish` tokens, their `symbols`
/// limiting what may be published, and the shared token kept beside them.
@Suite(.serialized) struct AuthPublishTests {
    typealias Ingest = IngestIntegrityTests

    private func publisher(_ port: UInt16, token: String) throws -> TickerClient {
        try TickerClient(url: TickerURL(host: "127.0.0.1", port: port, path: "/v1/publish"),
                         extraHeaders: [("Authorization", "Bearer \(token)")])
    }

    @Test func publishTokensLimitWhatMayBePublished() async throws {
        try await withServer({
            $0.simulatedFeed = false
            $0.authKeysPath = AuthUpgradeTests.keysFile
            $0.publishToken = "shared-publish-token"
        }) { server in
            let table = server.symbols
            // A subscribe token cannot publish: 403 before the upgrade.
            #expect(throws: TickerClientError.self) { _ = try publisher(server.port, token: AuthUpgradeTests.token()) }
            let reader = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port),
                                          extraHeaders: [("Authorization", "Bearer \(AuthUpgradeTests.token())")])
            try reader.subscribe(["AAPL", "MSFT"], id: 1)
            let feed = try publisher(server.port, token: AuthUpgradeTests.token("feed-a", symbols: ["AAPL"], role: .publish))
            try feed.sendBinary(Ingest.message([Ingest.tick(table, "AAPL", 1)]))
            try feed.sendBinary(Ingest.message([Ingest.tick(table, "MSFT", 1)]))
            let refused = try Ingest.nextError(feed)
            #expect(refused?.code == .forbidden && refused?.message.contains("MSFT is outside your token's symbols") == true,
                    "\(String(describing: refused))")
            var got: [String] = []
            _ = try eventually(timeoutMs: 3_000) {
                while let event = try reader.next(timeoutMs: 0) {
                    if case .ticks(_, let ticks) = event { got += ticks.map { table[$0.symbolId].symbol } }
                }
                return got.contains("AAPL")
            }
            #expect(got == ["AAPL"], "only the allowed symbol reached subscribers")
            // The shared token still opens it.
            let shared = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port, path: "/v1/publish",
                                                         query: "token=shared-publish-token"))
            shared.close()
        }
    }
}
