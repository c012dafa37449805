import Foundation
import PosixIO
import Testing
@testable import TickerServer

/// `--trusted-proxies`: addresses and ranges, the forwarded client, and the
/// per-address limit counted on that client at the upgrade.
@Suite struct ProxyTrustTests {
    @Test func addressesRoundTripAsThePeerKeyDoes() throws {
        let v4 = try #require(IPAddress.bytes("203.0.113.7"))
        #expect(v4 == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 7])
        #expect(IPAddress.text(v4) == "203.0.113.7")
        #expect(IPAddress.bytes(key: IPAddress.key(v4)) == v4)
        let v6 = try #require(IPAddress.bytes("2001:db8::1"))
        #expect(IPAddress.text(v6) == "2001:db8::1")
        #expect(IPAddress.bytes("::ffff:203.0.113.7") == v4, "a mapped IPv6 is the same client as its IPv4")
        for bad in ["", "203.0.113", "203.0.113.256", "example.com", "1.2.3.4:80", "::g"] {
            #expect(IPAddress.bytes(bad) == nil, "\(bad)")
        }
    }

    @Test func rangesMatchByPrefix() throws {
        let trust = try ProxyTrust(parsing: ["10.0.0.0/8", "192.168.1.7", "fd00::/8"])
        #expect(trust.trusts(IPAddress.bytes("10.200.3.4")!))
        #expect(!trust.trusts(IPAddress.bytes("11.0.0.1")!))
        #expect(trust.trusts(IPAddress.bytes("192.168.1.7")!))
        #expect(!trust.trusts(IPAddress.bytes("192.168.1.8")!))
        #expect(trust.trusts(IPAddress.bytes("fd12::5")!))
        #expect(!trust.trusts(IPAddress.bytes("fe80::1")!))
        #expect(try ProxyTrust(parsing: ["0.0.0.0/0"]).trusts(IPAddress.bytes("8.8.8.8")!))
        for bad in ["10.0.0.0/33", "10.0.0.0/x", "proxy.local", "fd00::/129", "1.2.3.4/8/1"] {
            #expect(throws: ProxyTrustError.self, "\(bad)") { try ProxyTrust(parsing: [bad]) }
        }
    }

    @Test func theRightmostUntrustedHopIsTheClient() throws {
        let trust = try ProxyTrust(parsing: ["10.0.0.0/8"])
        let client = IPAddress.bytes("203.0.113.7")
        // The leftmost entries are whatever the client sent: never believed over a later hop.
        #expect(trust.forwardedClient(forwardedFor: ["198.51.100.1, 203.0.113.7"], realIP: nil) == client)
        #expect(trust.forwardedClient(forwardedFor: ["203.0.113.7, 10.1.1.1", "10.2.2.2"], realIP: nil) == client)
        #expect(trust.forwardedClient(forwardedFor: [], realIP: "203.0.113.7") == client)
        #expect(trust.forwardedClient(forwardedFor: ["10.9.9.9, 10.1.1.1"], realIP: nil) == IPAddress.bytes("10.9.9.9"),
                "every hop a proxy: the leftmost")
        #expect(trust.forwardedClient(forwardedFor: ["203.0.113.7, garbage"], realIP: nil) == nil, "garbage: believe nothing")
        #expect(trust.forwardedClient(forwardedFor: ["10.1.1.1"], realIP: "198.51.100.1") == IPAddress.bytes("10.1.1.1"),
                "X-Real-IP only without X-Forwarded-For (the client may have written it)")
        #expect(trust.forwardedClient(forwardedFor: [], realIP: "::") == nil, "the unspecified address is no client")
        #expect(trust.forwardedClient(forwardedFor: ["::"], realIP: nil) == nil)
    }

    /// Upgrades held open until the test ends (each holds its address's slot).
    private final class Held {
        var sockets: [RawSocket] = []

        func upgrade(_ port: UInt16, _ extra: String) throws -> Int? {
            let s = try RawSocket(port: port)
            try s.write(upgradeRequest(extra: extra))
            try s.read(timeoutMs: 5_000) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            sockets.append(s)
            return s.status
        }
    }

    @Test func behindATrustedProxyTheLimitCountsForwardedClients() async throws {
        let held = Held()
        try await withServer({
            $0.overload.maxConnectionsPerAddress = 1
            $0.trustedProxies = try! ProxyTrust(parsing: ["127.0.0.1"])
        }) { server throws in
            #expect(try held.upgrade(server.port, "X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n") == 101)
            #expect(try held.upgrade(server.port, "X-Forwarded-For: 203.0.113.8\r\n") == 101)
            #expect(try held.upgrade(server.port, "X-Forwarded-For: 203.0.113.7\r\n") == 429, "203.0.113.7 already holds its one")
            #expect(try held.upgrade(server.port, "X-Real-IP: 203.0.113.9\r\n") == 101)
            #expect(try held.upgrade(server.port, "") == 101, "no header: the proxy itself, counted once")
            #expect(try held.upgrade(server.port, "") == 429)
        }
    }

    @Test func withoutTrustTheHeaderIsIgnored() async throws {
        let held = Held()
        try await withServer({ $0.overload.maxConnectionsPerAddress = 1 }) { server throws in
            #expect(try held.upgrade(server.port, "X-Forwarded-For: 203.0.113.7\r\n") == 101)
            #expect(try held.upgrade(server.port, "X-Forwarded-For: 203.0.113.8\r\n") == 429, "the peer is 127.0.0.1 either way")
        }
    }

    @Test func aBadProxyListIsOneLine() throws {
        let outcome = try CLI.run(["serve", "--port", "0", "--trusted-proxies", "10.0.0.0/8,proxy.local"], timeout: 20)
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "ticker: --trusted-proxies: 'proxy.local' is not an IP address or CIDR range (e.g. 10.0.0.0/8, 127.0.0.1, fd00::/8)\n")
    }
}
