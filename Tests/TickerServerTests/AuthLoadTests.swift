import Auth
import Foundation
import GatewayHarness
import MarketData
import TestSupport
import Testing
import TickerClient
import TickerServer

/// Issue 23, acceptance 2: auth on, 1,000 clients of 20 subjects with
/// random entitlements, half on a single node and half on a Redis-fed
/// gateway, for a minute (`TICKER_AUTH_SECONDS` shortens it by hand): no
/// record of a symbol outside the client's entitlement, the sequence rule
/// holding per symbol, also across a resume (200 clients drop their
/// connection mid-run and resume with `from`).
@Suite(.serialized, .enabled(if: RedisServer.isAvailable, Comment(rawValue: RedisServer.skipReason)))
struct AuthLoadTests {
    static let seconds = ProcessInfo.processInfo.environment["TICKER_AUTH_SECONDS"].flatMap(Double.init) ?? 60

    struct Seen: Sendable {
        var records = 0
        var outside = 0
        var violations: [String] = []
        var gaps = 0
        var resumed = 0
        var resets = 0
        var errors: [String] = []
    }

    /// Reads one client until it is closed, checking every record against `allowed`.
    static func consume(_ client: AsyncTickerClient, allowed: Set<String>) async throws -> Seen {
        var seen = Seen()
        var checker = ContiguityChecker()
        var names: [UInt32: String] = [:]
        var baseline: Set<String> = []
        for try await event in client.events {
            switch event {
            case .subscribed(let refs): for ref in refs { names[ref.id] = ref.symbol }
            case .resumed: seen.resumed += 1
            case .reset(let symbol):
                seen.resets += 1
                baseline.insert(symbol)
            case .gap: seen.gaps += 1
            case .error(let error): seen.errors.append("\(error.code.rawValue): \(error.message)")
            case .unsubscribed(let symbols, let reason): seen.errors.append("ended \(symbols) (\(reason))")
            case .decodeError(let why): seen.errors.append("decode: \(why)")
            case .ticks(_, let ticks):
                for tick in ticks {
                    seen.records += 1
                    guard let name = names[tick.symbolId], allowed.contains(name) else {
                        seen.outside += 1
                        continue
                    }
                    if baseline.remove(name) != nil { checker.rebase(tick) } else { checker.observe(tick) }
                }
            case .connected, .disconnected: break
            }
        }
        seen.violations = checker.violations
        return seen
    }

    /// The limit covers the wait for the exclusive gate behind the long suites.
    @Test(.timeLimit(.minutes(10)))
    func thousandClientsSeeOnlyTheirEntitlementAlsoAfterAResumeAndThroughAGateway() async throws {
        try await gatedAsync(.exclusive) {
            let keys = AuthUpgradeTests.keysFile
            let cluster = try GatewayCluster<ServerProcess>(
                gateways: 1, symbols: 60, feed: ["--interval-ms", "100"], gateway: ["--auth-keys", keys])
            defer { cluster.stop() }
            let (gateway, small) = (cluster.gateways[0], cluster.universePath!)
            let single = try ServerProcess(["--symbols", small, "--loops", "1", "--interval-ms", "100", "--auth-keys", keys])
            defer { single.stop() }

            let universe = try String(contentsOfFile: small, encoding: .utf8).split(separator: "\n").dropFirst()
                .map { String($0.split(separator: ",")[0]) }
            var rng = SystemRandomNumberGenerator()
            // 20 subjects: two may read everything, the others 3-20 symbols each.
            let subjects: [(token: String, allowed: Set<String>)] = (0..<20).map { i in
                let names: [String] = i < 2 ? ["*"] : Array(universe.shuffled(using: &rng).prefix(Int.random(in: 3...20, using: &rng)))
                let token = TokenMinter.mint(TokenClaims(subject: "user\(i)", expiresAt: AuthUpgradeTests.now + 3_600, symbols: names),
                                             kid: "k1", secret: AuthUpgradeTests.secret)
                return (token, names == ["*"] ? Set(universe) : Set(names))
            }
            var clients: [(AsyncTickerClient, Set<String>)] = []
            for i in 0..<1_000 {
                let subject = subjects[i % 20]
                // Half ask for `*` (the entitled symbols), half for a part of their entitlement.
                let wanted = i % 2 == 0 ? ["*"] : Array(subject.allowed.shuffled(using: &rng).prefix(Int.random(in: 1...subject.allowed.count, using: &rng)))
                let port = i < 500 ? single.port : gateway.port
                var configuration = AsyncTickerClient.Configuration(urls: [TickerURL(host: "127.0.0.1", port: port)], symbols: wanted)
                configuration.credential = .token(subject.token)
                clients.append((AsyncTickerClient(configuration), subject.allowed))
            }
            let results = try await withThrowingTaskGroup(of: Seen.self) { group in
                for (client, allowed) in clients {
                    group.addTask { try await Self.consume(client, allowed: allowed) }
                }
                try await Task.sleep(nanoseconds: UInt64(Self.seconds / 2 * 1e9))
                // 200 clients (100 on each node) lose their connection for 0.3-1.5 s and resume.
                for (client, _) in clients.enumerated().filter({ $0.offset % 5 == 0 }).map(\.element) {
                    client.dropConnection(pausingFor: UInt64.random(in: 300_000_000...1_500_000_000))
                }
                try await Task.sleep(nanoseconds: UInt64(Self.seconds / 2 * 1e9))
                for (client, _) in clients { client.close() }
                var all: [Seen] = []
                for try await seen in group { all.append(seen) }
                return all
            }
            let records = results.reduce(0) { $0 + $1.records }
            let outside = results.reduce(0) { $0 + $1.outside }
            let violations = results.flatMap(\.violations)
            let resumed = results.reduce(0) { $0 + $1.resumed }
            print("auth load: \(results.count) clients, 20 subjects, \(records) records in \(Int(Self.seconds)) s, "
                  + "\(outside) outside the entitlement, \(violations.count) sequence violations, "
                  + "\(results.reduce(0) { $0 + $1.gaps }) gaps, \(resumed) resumes, \(results.reduce(0) { $0 + $1.resets }) resets")
            #expect(results.count == 1_000)
            #expect(outside == 0)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
            #expect(results.allSatisfy { $0.gaps == 0 && $0.errors.isEmpty }, "\(results.flatMap(\.errors).prefix(5))")
            #expect(results.allSatisfy { $0.records > 0 }, "every client received records")
            #expect(resumed >= 190, "the dropped clients resumed (\(resumed))")
        }
    }
}
