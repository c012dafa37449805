import Foundation
import MarketData
import PosixIO
import Testing
import TickerClient
import TickerServer
import WebSocketProtocol

/// Issue 9: no publisher can make a client see an undeclared gap. A
/// publisher sends every bad case and gets its documented error code, while
/// 100 subscribers record every record they receive; each stream must obey
/// the sequence rule with zero violations and carry exactly the accepted records.
@Suite(.serialized) struct IngestIntegrityTests {
    static let token = "ingest-test-token"
    static let subscriberCount = 100

    /// One subscriber connection and what it saw.
    final class Subscriber {
        let client: TickerClient
        var acked = false
        var perSymbol: [UInt32: [Tick]] = [:]
        /// Records no publisher could legally have produced (flags it may not
        /// set, wrong exponent, crossed book): must stay empty.
        var illegal: [Tick] = []

        init(port: UInt16, symbols: [String]) throws {
            client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: port))
            try client.subscribe(symbols, id: 1)
        }

        func pump(_ table: SymbolTable) throws {
            while let event = try client.next(timeoutMs: 0) {
                switch event {
                case .control(.subscribed):
                    acked = true
                case .ticks(_, let ticks):
                    for t in ticks {
                        perSymbol[t.symbolId, default: []].append(t)
                        let info = table[t.symbolId]
                        let flagsOK = t.flags.subtracting([.snapshot, .conflated]).isEmpty
                            && (t.conflatedCount == 0 || t.flags.contains(.conflated))
                        if !flagsOK || t.priceExponent != info.priceExponent || (t.bid != 0 && t.ask != 0 && t.bid > t.ask) {
                            illegal.append(t)
                        }
                    }
                default:
                    continue
                }
            }
        }
    }

    static func publisher(port: UInt16) throws -> TickerClient {
        try TickerClient(url: TickerURL(host: "127.0.0.1", port: port, path: "/v1/publish", query: "token=\(token)"))
    }

    static func subscribers(port: UInt16, symbols: [String], table: SymbolTable) throws -> [Subscriber] {
        let all = try (0..<subscriberCount).map { _ in try Subscriber(port: port, symbols: symbols) }
        let acked = try eventually(timeoutMs: 10_000) {
            for s in all { try s.pump(table) }
            return all.allSatisfy(\.acked)
        }
        #expect(acked, "every subscriber acknowledged")
        return all
    }

    /// A valid record for `symbol`: its own exponent, a one-tick spread.
    static func tick(_ table: SymbolTable, _ symbol: String, _ sequence: UInt64) -> Tick {
        let info = table[table.id(of: symbol)!]
        let bid = info.mantissa(of: info.price) + Int64(sequence % 50) * info.tickMantissa
        return Tick(symbolId: info.id, priceExponent: info.priceExponent, sequence: sequence,
                    eventTimeNs: Clock.wallNanos(), bid: bid, ask: bid + info.tickMantissa, last: bid,
                    bidSize: 100, askSize: 200, lastSize: 10)
    }

    static func message(_ ticks: [Tick]) -> [UInt8] {
        var bytes: [UInt8] = []
        TickWire.appendHeader(recordCount: ticks.count, sendTimeNs: Clock.wallNanos(), to: &bytes)
        for tick in ticks { TickWire.appendRecord(tick, to: &bytes) }
        return bytes
    }

    /// The next error the publisher receives within 5 s (nil if none).
    static func nextError(_ publisher: TickerClient, timeoutMs: Int = 5_000) throws -> ControlError? {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            if case .control(.error(let e))? = try publisher.next(timeoutMs: 100) { return e }
        }
        return nil
    }

    /// Issue 13: the one-record messages of one read leave as one batch, so
    /// with batched delivery a subscriber on either loop gets the whole round
    /// as one message (not one per published message), in order.
    @Test func messagesOfOneReadReachSubscribersAsOneMessage() async throws {
        try await withServer(gate: .exclusive, {
            $0.simulatedFeed = false
            $0.publishToken = Self.token
        }) { server throws in
            let table = server.symbols
            let names = table.all.prefix(20).map(\.symbol)
            // Several subscribers, so both loops have some (SO_REUSEPORT spreads them).
            let subscribers = try (0..<8).map { _ in try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port)) }
            for s in subscribers { try s.subscribe(names, id: 1) }
            var messages = Array(repeating: 0, count: subscribers.count)
            var records = Array(repeating: [Tick](), count: subscribers.count)
            func pump() throws {
                for (i, s) in subscribers.enumerated() {
                    while let event = try s.next(timeoutMs: 0) {
                        if case .ticks(_, let ticks) = event {
                            messages[i] += 1
                            records[i] += ticks
                        }
                    }
                }
            }
            _ = try eventually(timeoutMs: 500) { try pump(); return false }   // acks settle
            let publisher = try Self.publisher(port: server.port)
            let rounds = 5
            for round in 1...rounds {
                var write: [UInt8] = []
                for name in names {
                    write += WebSocketFrameEncoder.encode(
                        opcode: .binary, payload: Self.message([Self.tick(table, name, UInt64(round))]),
                        maskKey: UInt32.random(in: 1...UInt32.max))
                }
                try publisher.sendRaw(write)
                let landed = try eventually(timeoutMs: 10_000) {
                    try pump()
                    return records.allSatisfy { $0.count >= round * names.count }
                }
                #expect(landed, "round \(round) reached every subscriber")
            }
            for i in subscribers.indices {
                #expect(records[i].count == rounds * names.count)
                #expect(records[i].map(\.sequence) == (1...rounds).flatMap { r in Array(repeating: UInt64(r), count: names.count) },
                        "rounds arrive whole and in order")
                // One message per round; a read split by the kernel would add one.
                #expect(messages[i] <= rounds + 1, "subscriber \(i): \(messages[i]) messages for \(rounds) rounds")
            }
        }
    }

    /// `--delivery message`: every tick is its own one-record message, each
    /// subscriber gets exactly its symbols' ticks, and each symbol's come in
    /// sequence order, also when a round holds several ticks of a symbol and
    /// goes out subscriber by subscriber (grouped by symbol).
    @Test func messageDeliverySendsEveryTickAsItsOwnMessageInOrder() async throws {
        try await withServer(gate: .exclusive, {
            $0.simulatedFeed = false
            $0.publishToken = Self.token
            $0.hub.delivery = .perTick
        }) { server throws in
            let table = server.symbols
            let names = table.all.prefix(20).map(\.symbol)
            // Overlapping subsets on both loops (SO_REUSEPORT spreads them).
            let wanted = (0..<8).map { i in Array(names[(i * 2)...].prefix(10)) + (i % 2 == 0 ? [names[0]] : []) }
            let subscribers = try wanted.map { _ in try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port)) }
            for (s, symbols) in zip(subscribers, wanted) { try s.subscribe(Array(Set(symbols)), id: 1) }
            var messages = Array(repeating: [[Tick]](), count: subscribers.count)
            func pump() throws {
                for (i, s) in subscribers.enumerated() {
                    while let event = try s.next(timeoutMs: 0) {
                        if case .ticks(_, let ticks) = event { messages[i].append(ticks) }
                    }
                }
            }
            _ = try eventually(timeoutMs: 500) { try pump(); return false }   // acks settle
            messages = messages.map { _ in [] }
            let publisher = try Self.publisher(port: server.port)
            let rounds = 10, perRound = 3
            for round in 0..<rounds {
                // One write: `perRound` ticks of every symbol, each its own message.
                var write: [UInt8] = []
                for step in 1...perRound {
                    for name in names {
                        let sequence = UInt64(round * perRound + step)
                        write += WebSocketFrameEncoder.encode(
                            opcode: .binary, payload: Self.message([Self.tick(table, name, sequence)]),
                            maskKey: UInt32.random(in: 1...UInt32.max))
                    }
                }
                try publisher.sendRaw(write)
            }
            let total = rounds * perRound
            let landed = try eventually(timeoutMs: 10_000) {
                try pump()
                return zip(messages, wanted).allSatisfy { $0.0.count >= total * Set($0.1).count }
            }
            #expect(landed, "every tick reached every subscriber")
            for (i, symbols) in wanted.enumerated() {
                #expect(messages[i].allSatisfy { $0.count == 1 }, "subscriber \(i): one record per message")
                let got = messages[i].joined()
                #expect(Set(got.map(\.symbolId)) == Set(symbols.map { table.id(of: $0)! }), "subscriber \(i): its symbols only")
                for name in Set(symbols) {
                    let id = table.id(of: name)!
                    #expect(got.filter { $0.symbolId == id }.map(\.sequence) == (1...UInt64(total)).map { $0 },
                            "subscriber \(i), \(name): every tick, in order")
                }
            }
        }
    }

    @Test func everyBadPublishIsRefusedAndNoSubscriberSeesAGap() async throws {
        try await withServer(gate: .exclusive, {
            $0.simulatedFeed = false
            $0.publishToken = Self.token
        }) { server throws in
            let table = server.symbols
            let names = ["AAPL", "MSFT", "GOOGL", "EURUSD"]
            let subscribers = try Self.subscribers(port: server.port, symbols: names, table: table)
            func pumpAll() throws { for s in subscribers { try s.pump(table) } }

            // What the server should have accepted, per symbol, in order.
            var accepted: [UInt32: [UInt64]] = [:]
            let a = try Self.publisher(port: server.port)
            /// Sends a valid message and waits until every subscriber has it: publishers
            /// on different loops race, so each step starts after the previous one landed.
            func good(_ ticks: [Tick], from publisher: TickerClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
                try publisher.sendBinary(Self.message(ticks))
                for t in ticks { accepted[t.symbolId, default: []].append(t.sequence) }
                let landed = try eventually(timeoutMs: 10_000) {
                    try pumpAll()
                    return subscribers.allSatisfy { s in
                        accepted.allSatisfy { s.perSymbol[$0.key, default: []].count >= $0.value.count }
                    }
                }
                #expect(landed, "accepted message reached every subscriber", sourceLocation: sourceLocation)
            }
            func refused(_ bytes: [UInt8], from publisher: TickerClient, _ code: ControlErrorCode,
                         _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ControlError? {
                try publisher.sendBinary(bytes)
                let error = try Self.nextError(publisher)
                #expect(error?.code == code, "\(what): \(String(describing: error))", sourceLocation: sourceLocation)
                try pumpAll()
                return error
            }
            func refused(_ ticks: [Tick], _ code: ControlErrorCode, _ what: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> ControlError? {
                try refused(Self.message(ticks), from: a, code, what, sourceLocation: sourceLocation)
            }
            let aapl = table.id(of: "AAPL")!
            func t(_ symbol: String, _ seq: UInt64) -> Tick { Self.tick(table, symbol, seq) }

            try good([t("AAPL", 1), t("AAPL", 2), t("AAPL", 3), t("AAPL", 4), t("AAPL", 5)], from: a)
            try good([t("MSFT", 100), t("EURUSD", 1)], from: a)

            _ = try refused([t("AAPL", 3)], .sequenceStale, "backwards")
            let duplicate = try refused([t("AAPL", 5)], .sequenceStale, "duplicate")
            #expect(duplicate?.message.contains("expected sequence 6") == true)
            let jump = try refused([t("AAPL", 8)], .sequenceGap, "jump")
            #expect(jump?.message == "message rejected, record 0 (AAPL): expected sequence 6, got 8: 2 updates would be missing")
            #expect(jump?.symbols == ["AAPL"])
            _ = try refused([t("AAPL", 0)], .badRecord, "sequence 0")
            _ = try refused([t("AAPL", .max)], .badRecord, "sequence 2^64 - 1")
            _ = try refused([t("EURUSD", IngestValidator.maxSequence + 1)], .badRecord, "sequence 2^53 + 1")

            var snapshot = t("AAPL", 6)
            snapshot.flags = .snapshot
            _ = try refused([snapshot], .badRecord, "publisher-set snapshot flag")
            // The attack the issue names: declare a gap the server never made.
            var conflated = t("AAPL", 9)
            conflated.flags = .conflated
            conflated.conflatedCount = 3
            _ = try refused([conflated], .badRecord, "publisher-set conflated flag and count")
            var counted = t("AAPL", 6)
            counted.conflatedCount = 2
            _ = try refused([counted], .badRecord, "publisher-set conflatedCount")
            var reservedFlag = t("AAPL", 6)
            reservedFlag.flags = TickFlags(rawValue: 0x40)
            _ = try refused([reservedFlag], .badRecord, "reserved flag bit")
            var reservedField = Self.message([t("AAPL", 6)])
            reservedField[TickWire.headerSize + 6] = 1
            _ = try refused(reservedField, from: a, .badRecord, "record reserved field")
            var headerReserved = Self.message([t("AAPL", 6)])
            headerReserved[7] = 1
            _ = try refused(headerReserved, from: a, .badRequest, "header reserved field")
            var exponent = t("AAPL", 6)
            exponent.priceExponent = -4
            _ = try refused([exponent], .badRecord, "exponent that contradicts /v1/symbols")
            var crossed = t("AAPL", 6)
            crossed.bid = crossed.ask + 1
            _ = try refused([crossed], .badRecord, "crossed book")
            _ = try refused([], .badRequest, "zero records")
            var unknown = t("AAPL", 6)
            unknown.symbolId = UInt32(table.count)
            _ = try refused([unknown], .unknownSymbol, "symbol id out of range")
            try a.sendText("{}")
            #expect(try Self.nextError(a)?.code == .badRequest, "text on /v1/publish")

            // Atomic: record 0 is valid on its own, record 1 jumps; neither is applied.
            let mixed = try refused([t("AAPL", 6), t("MSFT", 105)], .sequenceGap, "jump in record 1")
            #expect(mixed?.message.hasPrefix("message rejected, record 1 (MSFT)") == true)
            try good([t("AAPL", 6), t("MSFT", 101)], from: a)   // would be stale had record 0 been applied

            // A second publisher: owned symbols are refused, free ones claimable.
            let b = try Self.publisher(port: server.port)
            _ = try refused(Self.message([t("AAPL", 7)]), from: b, .symbolOwned, "second publisher on AAPL")
            _ = try refused(Self.message([t("GOOGL", 1), t("MSFT", 102)]), from: b, .symbolOwned, "second publisher on MSFT")
            try good([t("GOOGL", 1), t("GOOGL", 2)], from: b)
            _ = try refused([t("GOOGL", 3)], .symbolOwned, "first publisher on the second one's symbol")
            try good([t("AAPL", 7)], from: a)

            // The owner leaves: the other publisher continues its stream, contiguous.
            a.close()
            #expect(eventually(timeoutMs: 5_000) { server.openConnections == Self.subscriberCount + 1 }, "A's close processed")
            _ = try refused(Self.message([t("AAPL", 1)]), from: b, .sequenceStale, "restart from 1 after a handover")
            try good([t("AAPL", 8), t("MSFT", 102)], from: b)
            #expect(try Self.nextError(b, timeoutMs: 300) == nil, "no refusal of a valid message")

            // Every subscriber got exactly the accepted records, contiguous.
            let expectedTotal = accepted.values.reduce(0) { $0 + $1.count }
            let complete = try eventually(timeoutMs: 10_000) {
                try pumpAll()
                return subscribers.allSatisfy { $0.perSymbol.values.reduce(0) { $0 + $1.count } >= expectedTotal }
            }
            #expect(complete, "every subscriber received all \(expectedTotal) accepted records")
            usleep(100_000)
            try pumpAll()
            var violations = 0
            for s in subscribers {
                violations += s.client.tracker.gaps.count
                #expect(s.illegal.isEmpty, "records no publisher may produce: \(s.illegal.prefix(3))")
                for (symbol, sequences) in accepted {
                    #expect(s.perSymbol[symbol]?.map(\.sequence) == sequences, "symbol \(table[symbol].symbol)")
                }
            }
            #expect(violations == 0, "sequence-rule violations across \(subscribers.count) streams: \(violations)")
            #expect(subscribers.allSatisfy { $0.client.tracker.lastSequence(of: aapl) == 8 })

            let gaps = try metric(#"ticker_ingest_rejected_total{reason="sequence_gap"}"#, port: server.port)
            #expect(gaps == 2)
            let owned = try metric(#"ticker_ingest_rejected_total{reason="symbol_owned"}"#, port: server.port)
            #expect(owned == 3)
            let flags = try metric(#"ticker_ingest_rejected_total{reason="flags"}"#, port: server.port)
            #expect(flags == 3)
            b.close()
            for s in subscribers { s.client.close(timeoutMs: 500) }
        }
    }

    /// With the simulated feed running, the feed owns every symbol: a
    /// publisher cannot interleave its own sequences with the feed's.
    @Test func theSimulatedFeedOwnsEverySymbol() async throws {
        try await withServer(gate: .exclusive, {
            $0.publishToken = Self.token
            $0.meanIntervalMs = 20
        }) { server throws in
            let table = server.symbols
            let subscribers = try Self.subscribers(port: server.port, symbols: ["AAPL", "MSFT"], table: table)
            let publisher = try Self.publisher(port: server.port)
            for seq: UInt64 in [1, 2, 1_000_000] {
                try publisher.sendBinary(Self.message([Self.tick(table, "AAPL", seq)]))
                let error = try Self.nextError(publisher)
                #expect(error?.code == .symbolOwned)
                #expect(error?.message.contains("--no-feed") == true)
            }
            let until = Date().addingTimeInterval(1)
            while Date() < until { for s in subscribers { try s.pump(table) }; usleep(1_000) }
            var violations = 0
            for s in subscribers {
                violations += s.client.tracker.gaps.count
                #expect(s.illegal.isEmpty)
                #expect(s.client.tracker.records > 0)
            }
            #expect(violations == 0, "sequence-rule violations across \(subscribers.count) streams: \(violations)")
            #expect(try metric(#"ticker_ingest_rejected_total{reason="symbol_owned"}"#, port: server.port) == 3)
            publisher.close()
            for s in subscribers { s.client.close(timeoutMs: 500) }
        }
    }
}
