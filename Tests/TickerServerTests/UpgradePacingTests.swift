import Foundation
import Testing
import WebSocketProtocol
@testable import TickerServer

/// A connect burst past the loop's upgrade pace: the surplus upgrades are
/// parked and done in arrival order, frames sent right behind an upgrade
/// request wait with it and are answered after the 101, and a `/healthz`
/// sent during the burst is answered without waiting for the upgrades.
@Suite struct UpgradePacingTests {
    @Test func burstOfUpgradesIsPacedAndLosesNothing() async throws {
        try await withServer({
            $0.loops = 1
            $0.overload.upgradesPerWindow = 4   // the test's burst is slower than a storm's
        }) { server throws in
            let count = 300
            var sockets: [RawSocket] = []
            for i in 0..<count {
                let s = try RawSocket(port: server.port)
                let ping = maskedFrame(.text, Array(#"{"op":"ping","id":\#(i)}"#.utf8))
                try s.write(Array(upgradeRequest().utf8) + ping)
                sockets.append(s)
            }
            let health = try RawSocket(port: server.port)
            try health.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try health.read(timeoutMs: 5_000) { String(decoding: $0, as: UTF8.self).hasSuffix("ok\n") }
            #expect(health.status == 200)

            var answered = 0
            for (i, s) in sockets.enumerated() {
                let pong = #""id":\#(i)"#
                try s.read(timeoutMs: 10_000) { bytes in
                    serverFrames(after: bytes).contains { String(decoding: $0.payload, as: UTF8.self).contains(pong) }
                }
                if s.status == 101,
                   serverFrames(after: s.received).contains(where: { String(decoding: $0.payload, as: UTF8.self).contains(pong) }) {
                    answered += 1
                }
            }
            #expect(answered == count, "every upgrade done and its pipelined ping answered")
            let parked = server.metricsText().split(separator: "\n")
                .first { $0.hasPrefix("ticker_upgrades_parked_total ") }
                .flatMap { Int($0.split(separator: " ")[1]) } ?? 0
            #expect(parked > 0, "the burst went past the pace (4 upgrades per 5 ms)")
        }
    }
}
