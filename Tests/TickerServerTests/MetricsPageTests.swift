import Foundation
import GatewayHarness
import TestSupport
import Testing
import WebSocketProtocol

/// docs/METRICS.md lists every family `/metrics` exports: the server runs in
/// each mode, and the test fails when it exports a family the page does not
/// list (or with another type), or when the page lists one no mode exports.
@Suite(.serialized) struct MetricsPageTests {
    struct Row: Equatable {
        var type: String
        var modes: Set<String>
    }

    /// The page's rows: "| `family` | type | labels | modes | meaning |".
    static func page() throws -> [String: Row] {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("docs/METRICS.md"), encoding: .utf8)
        var rows: [String: Row] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `ticker_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 6 else { continue }
            let name = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let modes = Set(cells[4].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            rows[name] = Row(type: cells[2], modes: modes)
        }
        return rows
    }

    /// Family name to type, from the `# TYPE` lines of a scrape.
    static func families(_ metrics: String) -> [String: String] {
        var found: [String: String] = [:]
        for line in metrics.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let words = line.split(separator: " ")
            if words.count == 4 { found[String(words[2])] = String(words[3]) }
        }
        return found
    }

    private static func scrape(port: UInt16, token: String? = nil) throws -> String {
        let s = try RawSocket(port: port)
        try s.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")\r\n")
        try s.read(timeoutMs: 5_000)
        #expect(s.status == 200)
        return s.text
    }

    /// One mode's scrape against the page: nothing unlisted, the type as
    /// listed, and every family the page gives this mode present.
    /// `base`: a mode this one adds to (`auth` is a single node with tokens).
    private static func check(_ metrics: String, mode: String, base: String? = nil, against rows: [String: Row]) {
        let exported = families(metrics)
        for (name, type) in exported.sorted(by: { $0.key < $1.key }) {
            guard let row = rows[name] else {
                Issue.record("\(mode) exports \(name) (\(type)), which docs/METRICS.md does not list")
                continue
            }
            #expect(row.type == type, "\(name): page says \(row.type), \(mode) exports \(type)")
            #expect(row.modes.contains(mode) || base.map(row.modes.contains) == true,
                    "\(name) is exported in \(mode) mode; the page lists \(row.modes.sorted())")
        }
        for (name, row) in rows where row.modes.contains(mode) {
            #expect(exported[name] != nil, "docs/METRICS.md lists \(name) for \(mode), which it does not export")
        }
    }

    @Test func singleNodeFamiliesAreListed() async throws {
        let rows = try Self.page()
        #expect(rows.count > 50)
        try await gated(.exclusive) {
            let server = try ServerProcess(["--publish-token", "metrics-page"])
            defer { server.stop() }
            // Events behind labelled series: an upgrade, a 404, a protocol close (1002).
            let missing = try RawSocket(port: server.port)
            try missing.write("GET /no-such-path HTTP/1.1\r\nHost: x\r\n\r\n")
            try missing.read(timeoutMs: 5_000)
            let stream = try RawSocket(port: server.port)
            try stream.write(upgradeRequest())
            try stream.read(timeoutMs: 5_000) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            try stream.write([0x81, 0x00])   // an unmasked client frame: close 1002
            try stream.read(timeoutMs: 5_000)
            let metrics = try Self.scrape(port: server.port)
            Self.check(metrics, mode: "single", against: rows)
            #expect(metrics.contains("ticker_http_responses_total{status=\"404\"}"))
            #expect(metrics.contains("ticker_http_responses_total{status=\"101\"}"))
            #expect(metrics.contains("ticker_closes_total{code=\"1002\"}"))
            #expect(metrics.contains("ticker_loop_lag_seconds{loop=\"0\"}"))
            #expect(metrics.contains("ticker_build_info{") && metrics.contains("mode=\"single\"} 1"))
        }
    }

    /// A single node with `--auth-keys`: its own families plus the auth
    /// ones, a refusal behind a labelled series, `/metrics` with an admin token.
    @Test func authFamiliesAreListed() async throws {
        let rows = try Self.page()
        try await gated(.exclusive) {
            let server = try ServerProcess(["--auth-keys", AuthUpgradeTests.keysFile, "--no-feed"])
            defer { server.stop() }
            let refused = try RawSocket(port: server.port)
            try refused.write(upgradeRequest(extra: "Authorization: Bearer not.a.token\r\n"))
            try refused.read(timeoutMs: 5_000)
            #expect(refused.status == 401)
            let metrics = try Self.scrape(port: server.port, token: AuthUpgradeTests.token(role: .admin))
            Self.check(metrics, mode: "auth", base: "single", against: rows)
            #expect(metrics.contains("ticker_auth_refusals_total{reason=\"malformed\"} 1"))
            #expect(metrics.contains("ticker_auth_subjects 0"))
        }
    }

    @Test(.enabled(if: RedisServer.isAvailable, Comment(rawValue: RedisServer.skipReason)))
    func feedAndGatewayFamiliesAreListed() async throws {
        let rows = try Self.page()
        try await gated(.exclusive) {
            let cluster = try GatewayCluster<ServerProcess>(gateways: 1)
            defer { cluster.stop() }
            let (feed, gateway) = (cluster.feed, cluster.gateways[0])
            usleep(500_000)
            let feedMetrics = try Self.scrape(port: feed.port)
            Self.check(feedMetrics, mode: "feed", against: rows)
            #expect(feedMetrics.contains("mode=\"feed\"} 1"))
            let gatewayMetrics = try Self.scrape(port: gateway.port)
            Self.check(gatewayMetrics, mode: "gateway", against: rows)
            #expect(gatewayMetrics.contains("mode=\"gateway\"} 1"))
            #expect(gatewayMetrics.contains("ticker_redis_link_up 1"))
        }
        // Every listed family is exported by some mode (each mode's check
        // covers the families listed for it).
        for (name, row) in rows {
            #expect(!row.modes.isEmpty && row.modes.isSubset(of: ["single", "feed", "gateway", "auth"]), "\(name): modes \(row.modes)")
        }
    }
}
