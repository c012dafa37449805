import Auth
import Foundation
import MarketData
import PosixIO
import Synchronization
import Testing
import TickerClient
import TickerServer
import WebSocketProtocol

/// Issue 23 over a connection's life: entitlements on `subscribe` and `*`,
/// `token_expiring` and `auth` refresh (no gap; narrowing ends symbols at
/// once), close 4401 at `exp`, and revocation on reload.
@Suite(.serialized) struct AuthSessionTests {
    private func withAuthServer<T>(revoked: String? = nil, _ body: (TickerServer) throws -> T) async throws -> T {
        try await withServer({ config in
            config.authKeysPath = AuthUpgradeTests.keysFile
            config.revokedPath = revoked
        }, body)
    }

    private func client(_ port: UInt16, _ token: String) throws -> TickerClient {
        try TickerClient(url: TickerURL(host: "127.0.0.1", port: port), extraHeaders: [("Authorization", "Bearer \(token)")])
    }

    /// Reads events for `ms`, collecting ticks (checked for contiguity) and control replies.
    private func read(_ c: TickerClient, ms: Int, until stop: (ControlReply) -> Bool = { _ in false })
        throws -> (ticks: [Tick], replies: [ControlReply], closed: UInt16?) {
        var ticks: [Tick] = [], replies: [ControlReply] = []
        let deadline = Date().addingTimeInterval(Double(ms) / 1000)
        while Date() < deadline, let event = try c.next(timeoutMs: 50) ?? .some(.unknownText("")) {
            switch event {
            case .ticks(_, let batch): ticks += batch
            case .control(let reply):
                replies.append(reply)
                if stop(reply) { return (ticks, replies, nil) }
            case .closed(let code): return (ticks, replies, code?.rawValue)
            case .unknownText, .decodeError: continue
            }
        }
        return (ticks, replies, nil)
    }

    @Test func subscribeOutsideTheEntitlementIsForbiddenAndStarMeansEntitled() async throws {
        try await withAuthServer { server in
            let c = try client(server.port, AuthUpgradeTests.token(symbols: ["AAPL", "MSFT", "NOPE"]))
            defer { c.close() }
            try c.subscribe(["AAPL", "GOOG", "TSLA"], id: 1)
            let refused = try read(c, ms: 3_000) { if case .error = $0 { true } else { false } }
            guard case .error(let error)? = refused.replies.last else {
                Issue.record("no error: \(refused.replies)")
                return
            }
            #expect(error.code == .forbidden && error.id == 1 && error.symbols == ["GOOG", "TSLA"])
            try c.subscribe(["*"], id: 2)
            let seen = try read(c, ms: 1_500)
            let subscribed = seen.replies.compactMap { if case .subscribed(2, let refs, _) = $0 { refs.map(\.symbol) } else { nil } }
            #expect(subscribed == [["AAPL", "MSFT"]], "\(seen.replies)")
            let table = server.symbols
            let names = Set(seen.ticks.map { table[$0.symbolId].symbol })
            #expect(!seen.ticks.isEmpty && names.isSubset(of: ["AAPL", "MSFT"]), "\(names)")
        }
    }

    @Test(.timeLimit(.minutes(10)))   // includes the wait for the server gate
    func refreshContinuesWithoutAGapAndNarrowingEndsSymbolsAtOnce() async throws {
        try await withAuthServer { server in
            // 31 s to live: inside the 30 s warning window within a second.
            let c = try client(server.port, AuthUpgradeTests.token(symbols: ["AAPL", "MSFT"], ttl: 31))
            defer { c.close() }
            try c.subscribe(["AAPL", "MSFT"], id: 1)
            let warned = try read(c, ms: 5_000) { if case .tokenExpiring = $0 { true } else { false } }
            guard case .tokenExpiring(let inMs)? = warned.replies.last else {
                Issue.record("no token_expiring: \(warned.replies)")
                return
            }
            #expect(inMs > 25_000 && inMs <= 30_000)
            // Same subject, longer life, AAPL only.
            try c.send(.auth(id: 7, token: AuthUpgradeTests.token(symbols: ["AAPL"], ttl: 600)))
            let after = try read(c, ms: 2_000)
            var checker = ContiguityChecker()
            for t in warned.ticks + after.ticks { checker.observe(t) }
            #expect(checker.violations.isEmpty, "no gap across the refresh: \(checker.violations.prefix(3))")
            let msft = server.symbols.id(of: "MSFT")!
            guard let cut = after.replies.firstIndex(where: { if case .unsubscribed(nil, _, "entitlement") = $0 { true } else { false } }) else {
                Issue.record("no unsubscribed(entitlement): \(after.replies)")
                return
            }
            #expect(after.replies.contains { if case .authenticated(7, let exp) = $0 { exp > AuthUpgradeTests.now + 500 } else { false } })
            _ = cut
            // Nothing of MSFT after the reply: read on and look.
            let later = try read(c, ms: 1_000)
            #expect(!later.ticks.isEmpty && !later.ticks.contains { $0.symbolId == msft })
        }
    }

    @Test(.timeLimit(.minutes(10)))   // includes the wait for the server gate
    func anotherSubjectIsForbiddenAndExpiryClosesWith4401() async throws {
        try await withAuthServer { server in
            let exp = AuthUpgradeTests.now + 3
            let token = TokenMinter.mint(TokenClaims(subject: "carol", expiresAt: exp, symbols: ["*"]), kid: "k1", secret: AuthUpgradeTests.secret)
            let c = try client(server.port, token)
            try c.send(.auth(id: 3, token: AuthUpgradeTests.token("mallory")))
            let refused = try read(c, ms: 2_000) { if case .error = $0 { true } else { false } }
            guard case .error(let error)? = refused.replies.last else {
                Issue.record("no error for another subject: \(refused.replies)")
                return
            }
            #expect(error.code == .forbidden && error.id == 3)
            let end = try read(c, ms: 6_000)
            let closedAt = Date().timeIntervalSince1970
            #expect(end.closed == 4401)
            #expect(closedAt - Double(exp) < 1.0, "closed \(closedAt - Double(exp)) s after exp")
        }
    }

    @Test(.timeLimit(.minutes(10)))   // includes the wait for the server gate
    func revokedSubjectsAreClosedWithinASecondOfReloadAndRefused() async throws {
        let revoked = NSTemporaryDirectory() + "ticker-revoked-\(getpid())"
        _ = FileManager.default.createFile(atPath: revoked, contents: Data("# nobody yet\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: revoked) }
        try await withAuthServer(revoked: revoked) { server in
            let dave = try client(server.port, AuthUpgradeTests.token("dave"))
            let erin = try client(server.port, AuthUpgradeTests.token("erin"))
            defer { erin.close() }
            try dave.subscribe(["AAPL"])
            try erin.subscribe(["AAPL"])
            _ = try read(dave, ms: 300)
            _ = FileManager.default.createFile(atPath: revoked, contents: Data("dave\n".utf8))
            let reloaded = Date()
            server.reloadAuth()   // what SIGHUP does
            let end = try read(dave, ms: 3_000)
            #expect(end.closed == 4401)
            #expect(Date().timeIntervalSince(reloaded) < 1.0)
            #expect(!(try read(erin, ms: 300).ticks.isEmpty), "other subjects go on")
            #expect(throws: TickerClientError.self) { _ = try client(server.port, AuthUpgradeTests.token("dave")) }
        }
    }
    /// The Swift client: a `.provider` credential is asked again on
    /// `token_expiring` and the stream goes on without a gap; a fixed token
    /// the server refuses ends the stream at once with one error, no retry loop.
    @Test(.timeLimit(.minutes(10)))   // includes the wait for the server gate
    func asyncClientRefreshesThroughItsProviderAndStopsOnARefusedFixedToken() async throws {
        try await withServerAsync({ $0.authKeysPath = AuthUpgradeTests.keysFile }) { server in
            let calls = Atomic<Int>(0)
            var configuration = AsyncTickerClient.Configuration(urls: [TickerURL(host: "127.0.0.1", port: server.port)], symbols: ["AAPL"])
            configuration.credential = .provider {
                calls.wrappingAdd(1, ordering: .relaxed)
                return AuthUpgradeTests.token(symbols: ["AAPL"], ttl: 31)   // inside the warning window at once
            }
            let client = AsyncTickerClient(configuration)
            let stop = Task {
                try await Task.sleep(nanoseconds: 3_000_000_000)
                client.close()
            }
            var checker = ContiguityChecker()
            var drops = 0
            for try await event in client.events {
                switch event {
                case .ticks(_, let ticks): for t in ticks { checker.observe(t) }
                case .disconnected: drops += 1
                default: break
                }
            }
            _ = try? await stop.value
            #expect(calls.load(ordering: .relaxed) >= 2, "the provider was asked again on token_expiring")
            #expect(drops == 0 && checker.violations.isEmpty && checker.records > 100)

            var fixed = AsyncTickerClient.Configuration(urls: [TickerURL(host: "127.0.0.1", port: server.port)], symbols: ["AAPL"])
            fixed.credential = .token(AuthUpgradeTests.token(ttl: -10))
            let started = Date()
            do {
                for try await _ in AsyncTickerClient(fixed).events {}
                Issue.record("an expired fixed token must end the stream with an error")
            } catch let error as TickerClientError {
                #expect("\(error)".contains("401"), "\(error)")
            }
            #expect(Date().timeIntervalSince(started) < 2, "no reconnect loop")
        }
    }
    /// Review findings, each on a live server: a fixed token that expires
    /// mid-session ends the stream with the 4401 error (not a silent end);
    /// a resubscribe naming a symbol the token does not allow keeps the
    /// allowed ones; a provider that never answers fails the attempt at
    /// the connect timeout instead of hanging the stream.
    @Test(.timeLimit(.minutes(10)))   // includes the wait for the server gate
    func fixedTokenExpiryForbiddenSymbolsAndASilentProvider() async throws {
        try await withServerAsync({ $0.authKeysPath = AuthUpgradeTests.keysFile }) { server in
            let url = TickerURL(host: "127.0.0.1", port: server.port)

            var expiring = AsyncTickerClient.Configuration(urls: [url], symbols: ["AAPL", "MSFT"])
            expiring.credential = .token(AuthUpgradeTests.token(symbols: ["AAPL"], ttl: 2))
            var ticks = 0, forbidden: [String] = [], sawDisconnect = false
            do {
                for try await event in AsyncTickerClient(expiring).events {
                    switch event {
                    case .ticks(_, let batch): ticks += batch.count
                    case .error(let error) where error.code == .forbidden: forbidden += error.symbols ?? []
                    case .disconnected(_, let retry): sawDisconnect = retry == nil
                    default: break
                    }
                }
                Issue.record("the stream must end with the 4401 error")
            } catch let error as TickerClientError {
                guard case .unauthorized(4401) = error else {
                    Issue.record("expected unauthorized(4401), got \(error)")
                    return
                }
            }
            #expect(forbidden == ["MSFT"], "MSFT refused, the rest resubscribed")
            #expect(ticks > 0, "AAPL kept after the refusal")
            #expect(sawDisconnect)

            var silent = AsyncTickerClient.Configuration(urls: [url], symbols: ["AAPL"])
            silent.credential = .provider {
                try await Task.sleep(nanoseconds: 600_000_000_000)
                return ""
            }
            silent.connectTimeoutNanos = 500_000_000
            silent.failFast = true
            let started = Date()
            do {
                for try await _ in AsyncTickerClient(silent).events {}
                Issue.record("a silent provider must fail the attempt")
            } catch let error as TickerClientError {
                #expect("\(error)".contains("no token within 500 ms"), "\(error)")
            }
            #expect(Date().timeIntervalSince(started) < 3)
        }
    }
}
