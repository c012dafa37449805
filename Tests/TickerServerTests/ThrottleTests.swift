import Foundation
import MarketData
import Testing
import TickerClient
import TickerServer

/// Throttled subscriptions on real sockets: one connection holding `*` at
/// 250 ms and one symbol at every tick.
@Suite(.serialized) struct ThrottleLoopbackTests {
    /// Reads until `stop` says so or `seconds` pass; polls through quiet moments.
    func read(_ client: TickerClient, seconds: Double, _ each: (ClientEvent) -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let event = try client.next(timeoutMs: 200) else { continue }
            if each(event) { return }
        }
    }

    @Test func starAtAnIntervalAndOneSymbolAtEveryTick() async throws {
        try await withServer({ $0.meanIntervalMs = 20 }) { server throws in
            usleep(300_000)   // every symbol has ticked: snapshots exist
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port,
                                                         query: "symbols=*&interval_ms=250"))
            var acks = 0
            try read(client, seconds: 10) { event in
                if case .control(.subscribed) = event { acks += 1 }
                return acks == 1
            }
            #expect(acks == 1, "the query subscription is acknowledged")
            let selected = "AAPL"
            let selectedID = try #require(server.symbols.id(of: selected))
            try client.subscribe([selected], id: 2, intervalMs: 0)
            var movedAt: Date?
            try read(client, seconds: 10) { event in
                if case .control(.subscribed(let id, let refs, _)) = event, id == 2 {
                    #expect(refs.map(\.symbol) == [selected], "the changed symbol is named")
                    movedAt = Date()
                    return true
                }
                return false
            }
            #expect(movedAt != nil)

            // Per symbol, the send times of its non-snapshot records.
            var times: [UInt32: [UInt64]] = [:]
            var selectedRecords = 0, selectedUncounted = 0
            let seconds = 3.0
            try read(client, seconds: seconds) { event in
                guard case .ticks(let sendTimeNs, let ticks) = event else { return false }
                for t in ticks where !t.flags.contains(.snapshot) {
                    if t.symbolId == selectedID {
                        selectedRecords += 1
                        if t.conflatedCount == 0 { selectedUncounted += 1 }
                    } else {
                        times[t.symbolId, default: []].append(sendTimeNs)
                    }
                }
                return false
            }
            #expect(client.tracker.gaps.isEmpty, "the sequence rule holds with counts: \(client.tracker.gaps.prefix(3))")
            #expect(times.count > server.symbols.count / 2, "the throttled symbols arrive: \(times.count)")
            // At most one record per symbol per 250 ms: with scheduling slack,
            // never three within 300 ms, and no more than the samples the run held.
            let window: UInt64 = 300_000_000
            var crowded: [String] = []
            for (symbol, sent) in times {
                let sorted = sent.sorted()
                if sorted.count > Int(seconds * 4) + 2 { crowded.append("\(server.symbols[symbol].symbol): \(sorted.count) records") }
                for i in sorted.indices.dropFirst(2) where sorted[i] &- sorted[i - 2] < window {
                    crowded.append("\(server.symbols[symbol].symbol): 3 records in \((sorted[i] &- sorted[i - 2]) / 1_000_000) ms")
                    break
                }
            }
            #expect(crowded.isEmpty, "\(crowded.prefix(5))")
            // The selected symbol is live: far more records than 4 a second,
            // nearly all of them single ticks.
            #expect(selectedRecords > Int(seconds * 4) * 3, "selected symbol records: \(selectedRecords)")
            #expect(selectedUncounted * 2 > selectedRecords)
            client.close()
        }
    }

    /// `list` names each throttled symbol's interval; unsubscribe ends it.
    @Test func listSaysTheIntervals() async throws {
        try await withServer { server throws in
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port))
            try client.subscribe(["AAPL", "MSFT"], id: 1)
            try client.subscribe(["MSFT"], id: 2, intervalMs: 500)
            func list(_ id: Int) throws -> (symbols: [String], intervals: [String: Int])? {
                try client.send(.list(id: id))
                var answer: (symbols: [String], intervals: [String: Int])?
                try read(client, seconds: 5) { event in
                    if case .control(.subscriptions(let rid, let refs, let intervals)) = event, rid == id {
                        answer = (refs.map(\.symbol), intervals)
                    }
                    return answer != nil
                }
                return answer
            }
            let first = try #require(try list(3))
            #expect(Set(first.symbols) == ["AAPL", "MSFT"])
            #expect(first.intervals == ["MSFT": 500])
            try client.unsubscribe(["MSFT"], id: 4)
            let second = try #require(try list(5))
            #expect(second.symbols == ["AAPL"])
            #expect(second.intervals.isEmpty)
            client.close()
        }
    }

    @Test func badIntervalsAreBadRequests() async throws {
        try await withServer { server throws in
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port))
            for (id, ms) in [(1, 10), (2, 49), (3, 60_001), (4, -1)] {
                try client.subscribe(["AAPL"], id: id, intervalMs: ms)
                var error: ControlError?
                try read(client, seconds: 5) { event in
                    if case .control(.error(let e)) = event { error = e }
                    if case .control(.subscribed) = event { Issue.record("interval \(ms) accepted") }
                    return error != nil
                }
                #expect(error?.code == .badRequest, "interval \(ms)")
                #expect(error?.id == id)
                #expect(error?.message.contains("interval_ms") == true)
            }
            client.close()

            let queried = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port,
                                                          query: "symbols=AAPL&interval_ms=20"))
            var error: ControlError?
            try read(queried, seconds: 5) { event in
                if case .control(.error(let e)) = event { error = e }
                if case .control(.subscribed) = event { Issue.record("query interval 20 accepted") }
                return error != nil
            }
            #expect(error?.code == .badRequest)
            #expect(error?.message.contains("interval_ms") == true)
            queried.close()
        }
    }
}

/// The async client keeps its intervals across a reconnect: `*` at 250 ms
/// and one symbol at every tick before the loss and after the resume, with
/// no gap.
@Suite(.serialized) struct ThrottleAsyncClientTests {
    @Test func intervalsSurviveAReconnect() async throws {
        try await withServerAsync({ $0.meanIntervalMs = 20 }) { server in
            usleep(300_000)
            let url = TickerURL(host: "127.0.0.1", port: server.port)
            var configuration = AsyncTickerClient.Configuration(urls: [url], symbols: ["*"])
            configuration.intervalMs = 250
            let client = AsyncTickerClient(configuration)
            client.subscribe(["AAPL"])
            let selected = try #require(server.symbols.id(of: "AAPL"))
            let reader = Task { () throws -> (connects: Int, gaps: Int, perSecond: [UInt32: Int], selected: Int) in
                var connects = 0, gaps = 0, selectedCount = 0
                var counts: [UInt32: Int] = [:]
                var start: Date?
                for try await event in client.events {
                    switch event {
                    case .connected: connects += 1
                    case .gap: gaps += 1
                    case .ticks(_, let ticks) where connects == 2:
                        // After the reconnect settles: count a 2-second window.
                        if start == nil { start = Date() }
                        guard Date().timeIntervalSince(start!) > 0.5 else { continue }
                        for t in ticks where !t.flags.contains(.snapshot) {
                            if t.symbolId == selected { selectedCount += 1 } else { counts[t.symbolId, default: 0] += 1 }
                        }
                    default: break
                    }
                }
                return (connects, gaps, counts, selectedCount)
            }
            try await Task.sleep(nanoseconds: 1_500_000_000)
            client.dropConnection(pausingFor: 300_000_000)
            // Reconnected within a few seconds even on busy cores; then 0.5 s settling and ~2 s counted.
            try await Task.sleep(nanoseconds: 4_000_000_000)
            client.close()
            let log = try await reader.value
            #expect(log.connects == 2)
            #expect(log.gaps == 0)
            #expect(log.perSecond.count > server.symbols.count / 2, "the throttled symbols came back after the reconnect")
            // At most 4 samples a second (+ slack) over a window under 3.5 s.
            #expect((log.perSecond.values.max() ?? 0) <= 16, "still throttled after the reconnect")
            #expect(log.selected > 3 * (log.perSecond.values.max() ?? 0), "AAPL still at every tick: \(log.selected)")
        }
    }
}
