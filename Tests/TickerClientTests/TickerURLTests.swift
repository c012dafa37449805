import Testing
import MarketData
import TickerClient

@Suite struct TickerURLTests {
    @Test func anEncodingIsAddedUnlessTheURLNamesOne() throws {
        let plain = try #require(TickerURL(string: "ws://h:1/v1/stream"))
        #expect(plain.with(encoding: .delta).target == "/v1/stream?encoding=delta")
        let query = try #require(TickerURL(string: "ws://h:1/v1/stream?symbols=*"))
        #expect(query.with(encoding: .raw).target == "/v1/stream?symbols=*&encoding=raw")
        let chosen = try #require(TickerURL(string: "ws://h:1/v1/stream?encoding=raw&symbols=*"))
        #expect(chosen.with(encoding: .delta) == chosen)
    }

    @Test func plainURLsKeepTheirMeaning() throws {
        let url = try #require(TickerURL(string: "ws://127.0.0.1:8080/v1/stream?x=1"))
        #expect(url == TickerURL(host: "127.0.0.1", port: 8080, path: "/v1/stream", query: "x=1"))
        #expect(!url.isSecure && url.hostHeader == "127.0.0.1:8080")
        #expect(url.description == "ws://127.0.0.1:8080/v1/stream?x=1")
        #expect(TickerURL(string: "http://example.com")?.port == 80)
        #expect(TickerURL(string: "ws://example.com/v1/stream")?.hostHeader == "example.com")
    }

    @Test func secureURLsDefaultTo443AndSayWSS() throws {
        let url = try #require(TickerURL(string: "wss://ticker.example.com/v1/stream"))
        #expect(url.isSecure && url.port == 443 && url.host == "ticker.example.com")
        #expect(url.hostHeader == "ticker.example.com", "the default port stays out of Host")
        #expect(url.description == "wss://ticker.example.com:443/v1/stream")
        let other = try #require(TickerURL(string: "WSS://[::1]:8443/v1/stream"))
        #expect(other.isSecure && other.host == "::1" && other.port == 8443)
        #expect(other.hostHeader == "[::1]:8443")
        #expect(TickerURL(string: "https://h")?.isSecure == true)
        #expect(TickerURL(string: "ftp://h") == nil && TickerURL(string: "wss://:9") == nil)
    }

    @Test func blockingClientRefusesWSSInOneSentence() throws {
        let url = try #require(TickerURL(string: "wss://127.0.0.1:9/v1/stream"))
        let error = try #require(throws: TickerClientError.self) { _ = try TickerClient(url: url) }
        #expect(error.description.contains("needs TLS"))
        #expect(!error.description.contains("\n"))
    }

    /// Without a TLS layer a wss:// URL ends the stream at once, without
    /// trying to connect (no retry helps a configuration error).
    @Test(.timeLimit(.minutes(1)))
    func asyncClientWithoutSecurityEndsWithNeedsTLS() async throws {
        let url = try #require(TickerURL(string: "wss://127.0.0.1:9/v1/stream"))
        let client = AsyncTickerClient(.init(urls: [url], symbols: ["AAPL"]))
        var thrown: (any Error)?
        do {
            for try await _ in client.events {}
        } catch {
            thrown = error
        }
        let error = try #require(thrown as? TickerClientError)
        guard case .needsTLS(let which) = error else {
            Issue.record("expected needsTLS, got \(error)")
            return
        }
        #expect(which == url)
        #expect(error.description.contains("TLSSecurity()"))
    }
}
