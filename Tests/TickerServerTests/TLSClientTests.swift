import Foundation
import MarketData
import TestSupport
import Testing
import TickerClient
import TickerClientTLS

/// Issue 25, acceptance 5: `AsyncTickerClient` over `wss://` through the
/// project's nginx TLS front (Scripts/tls-front.sh) with its test CA; a
/// certificate from a CA the client does not trust, and one that does not
/// name the host, each end the stream with a one-line error.
@Suite(.serialized, .enabled(if: TLSFront.isAvailable, TLSFront.skipReason))
struct TLSClientTests {
    /// One server behind one nginx; `body` gets the TLS port and the CA file.
    private func withFront(_ body: (UInt16, String) async throws -> Void) async throws {
        try await gatedAsync(.exclusive) {
            let server = try ServerProcess(["--loops", "1", "--max-per-address", "0"])
            defer { server.stop() }
            let front = try TLSFront(upstreamPort: server.port)
            defer { front.stop() }
            try await body(front.port, front.caFile)
        }
    }

    /// Runs a client until `enough` ticks or `seconds`; returns what it saw.
    private func run(_ configuration: AsyncTickerClient.Configuration, enough: Int, seconds: Double) async throws
        -> (ticks: [Tick], connected: [TickerURL], gaps: Int) {
        let client = AsyncTickerClient(configuration)
        let watchdog = Task {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            client.close()
        }
        defer { watchdog.cancel() }
        var ticks: [Tick] = []
        var connected: [TickerURL] = []
        var gaps = 0
        for try await event in client.events {
            switch event {
            case .connected(let url, _): connected.append(url)
            case .ticks(_, let batch):
                ticks += batch
                if ticks.count >= enough { client.close() }
            case .gap: gaps += 1
            default: break
            }
        }
        return (ticks, connected, gaps)
    }

    @Test(.timeLimit(.minutes(10)))   // includes the wait for the exclusive gate
    func receivesTicksOverWSSWithTheTestCA() async throws {
        try await withFront { port, ca in
            var configuration = AsyncTickerClient.Configuration(
                urls: [TickerURL(string: "wss://127.0.0.1:\(port)/v1/stream")!], symbols: ["AAPL", "MSFT"])
            configuration.security = try TLSSecurity(caFile: ca)
            configuration.reconnect = false
            configuration.failFast = true
            let seen = try await run(configuration, enough: 200, seconds: 20)
            #expect(seen.connected.map(\.description) == ["wss://127.0.0.1:\(port)/v1/stream"])
            #expect(seen.ticks.count >= 200, "ticks through nginx over TLS: \(seen.ticks.count)")
            #expect(seen.gaps == 0)
            #expect(Set(seen.ticks.map(\.symbolId)).count == 2)
        }
    }

    /// The stream's error for `url` with `security`, as the user would see it.
    private func refusal(_ url: String, _ security: TLSSecurity) async throws -> String {
        var configuration = AsyncTickerClient.Configuration(urls: [TickerURL(string: url)!], symbols: ["AAPL"])
        configuration.security = security
        configuration.failFast = true
        do {
            let seen = try await run(configuration, enough: 1, seconds: 20)
            Issue.record("expected a refusal, got \(seen.ticks.count) ticks")
            return ""
        } catch let error as TickerClientError {
            return error.description
        }
    }

    @Test(.timeLimit(.minutes(10)))   // includes the wait for the exclusive gate
    func untrustedCertificateAndWrongHostAreRefusedInOneLine() async throws {
        try await withFront { port, ca in
            // The system's CAs: the test CA is not among them.
            let untrusted = try await refusal("wss://127.0.0.1:\(port)/v1/stream", try TLSSecurity())
            #expect(untrusted.contains("certificate is not trusted"), "\(untrusted)")
            #expect(untrusted.hasPrefix("TLS with 127.0.0.1 port \(port) failed:"), "\(untrusted)")
            // 127.0.0.2 reaches the same nginx, but the certificate names 127.0.0.1 and localhost.
            let wrongHost = try await refusal("wss://127.0.0.2:\(port)/v1/stream", try TLSSecurity(caFile: ca))
            #expect(wrongHost.contains("not valid for 127.0.0.2 (host name mismatch)"), "\(wrongHost)")
            for message in [untrusted, wrongHost] {
                #expect(!message.contains("\n") && message.count < 200, "one line: \(message)")
            }
        }
    }
}
