import Foundation
import MarketData
import Testing
import TickerClient
import TickerServer
import WebSocketProtocol

/// Issue acceptance: 200+ clients on random symbol subsets, on loopback,
/// against the real feed. Each gets only its symbols, a snapshot first,
/// contiguous sequences, nothing after unsubscribe, everything with "*".
@Suite(.serialized) struct FanoutIntegrationTests {
    final class Probe {
        let client: TickerClient
        var wanted: Set<UInt32> = []
        var star = false
        var acked = false
        var firstSeen: [UInt32: Tick] = [:]
        var counts: [UInt32: Int] = [:]
        var foreign: [UInt32] = []
        var unsubscribed: Set<UInt32> = []
        var unsubscribeAcked = false
        var afterUnsubscribe: [UInt32] = []

        init(_ client: TickerClient) { self.client = client }

        func pump() throws {
            while let event = try client.next(timeoutMs: 0) {
                switch event {
                case .control(.subscribed):
                    acked = true
                case .control(.unsubscribed):
                    unsubscribeAcked = true
                case .ticks(_, let ticks):
                    for t in ticks {
                        if firstSeen[t.symbolId] == nil { firstSeen[t.symbolId] = t }
                        counts[t.symbolId, default: 0] += 1
                        if !star && !wanted.contains(t.symbolId) { foreign.append(t.symbolId) }
                        if unsubscribeAcked && unsubscribed.contains(t.symbolId) { afterUnsubscribe.append(t.symbolId) }
                    }
                default:
                    continue
                }
            }
        }
    }

    @Test func twoHundredClientsOnRandomSubsets() async throws {
        try await withServer(gate: .exclusive, { $0.meanIntervalMs = 20 }) { server throws in
            usleep(300_000)   // let every symbol tick once, so snapshots exist
            let universe = server.symbols.count
            var rng = SystemRandomNumberGenerator()
            var probes: [Probe] = []
            for i in 0..<210 {
                let probe = Probe(try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port)))
                if i % 70 == 0 {
                    probe.star = true
                    try probe.client.subscribe(["*"], id: 1)
                } else {
                    let k = Int.random(in: 1...8, using: &rng)
                    while probe.wanted.count < k { probe.wanted.insert(UInt32.random(in: 0..<UInt32(min(universe, 60)), using: &rng)) }
                    try probe.client.subscribe(probe.wanted.map { server.symbols[$0].symbol }, id: 1)
                }
                probes.append(probe)
            }
            // Read for two seconds.
            let until = Date().addingTimeInterval(2)
            while Date() < until { for p in probes { try p.pump() } }

            for p in probes {
                #expect(p.acked)
                #expect(p.foreign.isEmpty, "received only its own symbols")
                #expect(p.client.tracker.gaps.isEmpty, "no sequence gaps: \(p.client.tracker.gaps.prefix(3))")
                for (symbol, first) in p.firstSeen {
                    // A snapshot; or, for a symbol that had not ticked when the
                    // client subscribed, its first update, possibly conflated
                    // (a loop that fell behind), declaring everything from 1.
                    #expect(first.flags.contains(.snapshot) || first.sequence == 1
                                || (first.flags.contains(.conflated) && first.sequence == 1 + UInt64(first.conflatedCount)),
                            "first record of \(symbol) is a baseline: \(first)")
                }
                if p.star {
                    #expect(p.firstSeen.count == universe, "\"*\" delivers every symbol: \(p.firstSeen.count)/\(universe)")
                } else {
                    #expect(Set(p.firstSeen.keys) == p.wanted, "every wanted symbol arrived")
                }
            }

            // Unsubscribe half of each subset; after the acknowledgement nothing of them arrives.
            for p in probes where !p.star {
                let drop = Array(p.wanted.prefix(max(1, p.wanted.count / 2)))
                p.unsubscribed = Set(drop)
                try p.client.unsubscribe(drop.map { server.symbols[$0].symbol }, id: 2)
            }
            let until2 = Date().addingTimeInterval(1.5)
            while Date() < until2 { for p in probes { try p.pump() } }
            for p in probes where !p.star {
                #expect(p.unsubscribeAcked)
                #expect(p.afterUnsubscribe.isEmpty, "nothing after unsubscribe")
                #expect(p.client.tracker.gaps.isEmpty)
            }
            let records = probes.reduce(UInt64(0)) { $0 + $1.client.tracker.records }
            #expect(records > 10_000, "a real stream flowed: \(records) records")
            for p in probes { p.client.close() }
            #expect(eventually(timeoutMs: 3_000) { server.openConnections == 0 })
        }
    }
}
