import Foundation
import GatewayHarness
import MarketData
import Testing
import TickerClient
import TickerServer

/// The delta encoding on real sockets, default feed: one raw and one delta
/// connection on `*` receive the same records, and the delta one's bytes
/// per delivered tick are measured (docs/PROTOCOL.md, "Delta encoding").
@Suite(.serialized) struct DeltaStreamTests {
    struct Key: Hashable {
        let symbol: UInt32
        let sequence: UInt64
    }

    @Test func rawAndDeltaConnectionsReceiveTheSameRecords() async throws {
        try await withServer { server throws in
            usleep(300_000)   // every symbol has ticked: snapshots exist
            let raw = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port, query: "symbols=*"))
            // Subscribed after connecting, so every binary message is kept
            // for the Python decoder from the first (its keyframes): with
            // `?symbols=` the first could arrive with the 101 and be read
            // inside init, before `keepsBinaryMessages` was set.
            let delta = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port, query: "encoding=delta"))
            defer {
                raw.close()
                delta.close()
            }
            delta.keepsBinaryMessages = true
            try delta.subscribe(["*"], id: 1)
            var deltaInOrder: [Tick] = []
            var rawRecords: [Key: Tick] = [:]
            var deltaRecords: [Key: Tick] = [:]
            // Per connection: the two welcomes race each other (each
            // connection's loop answers on its own), so no order between them.
            var rawEncodings: [String?] = [], deltaEncodings: [String?] = []
            var decodeErrors: [TickDeltaError] = []
            var warm = true
            var measuredBytes = 0, measuredTicks = 0, keyframes = 0
            let start = Date()
            let seconds = 4.0, warmUp = 1.0
            while Date().timeIntervalSince(start) < seconds {
                var idle = true
                while let event = try raw.next(timeoutMs: 0) {
                    idle = false
                    if case .control(.welcome(let info)) = event { rawEncodings.append(info.encoding) }
                    if case .ticks(_, let ticks) = event {
                        for t in ticks { rawRecords[Key(symbol: t.symbolId, sequence: t.sequence)] = t }
                    }
                }
                while let event = try delta.next(timeoutMs: 0) {
                    idle = false
                    switch event {
                    case .control(.welcome(let info)): deltaEncodings.append(info.encoding)
                    case .decodeError(let why): decodeErrors.append(why)
                    case .ticks(_, let ticks):
                        for t in ticks { deltaRecords[Key(symbol: t.symbolId, sequence: t.sequence)] = t }
                        deltaInOrder += ticks
                        if !warm {
                            measuredTicks += ticks.count
                            keyframes += ticks.filter { $0.flags.contains(.snapshot) }.count
                        }
                    default: break
                    }
                }
                if warm && Date().timeIntervalSince(start) >= warmUp {
                    warm = false
                    measuredBytes = -delta.binaryFrameBytes
                }
                if idle { usleep(1_000) }
            }
            measuredBytes += delta.binaryFrameBytes
            #expect(rawEncodings == ["raw"])
            #expect(deltaEncodings == ["delta"])
            #expect(decodeErrors.isEmpty)
            #expect(raw.tracker.gaps.isEmpty && delta.tracker.gaps.isEmpty)
            // Field by field; only a snapshot may differ, by its flag: each
            // connection's subscribe raced the feed on its own, so one may have
            // had as its snapshot the tick the other had live.
            var both = 0, snapshots = 0, different: [String] = []
            for (key, mine) in deltaRecords {
                guard var theirs = rawRecords[key] else { continue }
                both += 1
                if mine.flags.contains(.snapshot) != theirs.flags.contains(.snapshot) {
                    snapshots += 1
                    theirs.flags = mine.flags
                }
                if mine != theirs && different.count < 5 { different.append("\(theirs) vs \(mine)") }
            }
            #expect(snapshots <= 2 * server.symbols.count, "snapshot on one side only: \(snapshots)")
            #expect(both > 10_000, "records both received: \(both)")
            #expect(different.isEmpty, "\(different)")
            let perTick = Double(measuredBytes) / Double(max(1, measuredTicks))
            print("delta: \(measuredBytes) bytes of WebSocket frames for \(measuredTicks) ticks: "
                  + String(format: "%.2f", perTick) + " B per delivered tick (raw records: \(rawRecords.count), "
                  + "delta records: \(deltaRecords.count), both: \(both))")
            #expect(measuredTicks > 10_000)
            #expect(perTick <= 14, "bytes per delivered tick")
            try checkWithPython(delta.takeBinaryMessages(), decoded: deltaInOrder)
        }
    }

    struct PythonRecord: Decodable {
        var symbolId: UInt32, flags: UInt8, priceExponent: Int8, sequence: UInt64, eventTimeNs: UInt64
        var bid: Int64, ask: Int64, last: Int64, bidSize: UInt32, askSize: UInt32, lastSize: UInt32
        var conflatedCount: UInt32

        var tick: Tick {
            Tick(symbolId: symbolId, flags: TickFlags(rawValue: flags), priceExponent: priceExponent,
                 sequence: sequence, eventTimeNs: eventTimeNs, bid: bid, ask: ask, last: last,
                 bidSize: bidSize, askSize: askSize, lastSize: lastSize, conflatedCount: conflatedCount)
        }
    }

    struct PythonMessage: Decodable {
        var sendTimeNs: UInt64
        var records: [PythonRecord]
    }

    /// The independent decoder (Scripts/decode_stream.py, written from
    /// PROTOCOL.md) reads the captured delta stream to the same records.
    func checkWithPython(_ messages: [[UInt8]], decoded: [Tick]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("delta-stream-\(getpid()).hex")
        defer { try? FileManager.default.removeItem(at: file) }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for message in messages {
            for b in message { text += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
            text.append(UInt8(ascii: "\n"))
        }
        try Data(text).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root.appendingPathComponent("Scripts/decode_stream.py").path,
                             "--messages", file.path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: data.prefix(200), as: UTF8.self))")
        let python = try JSONDecoder().decode([PythonMessage].self, from: data).flatMap { $0.records.map(\.tick) }
        #expect(python.count == decoded.count)
        #expect(python == decoded, "Python and Swift decode the captured delta stream alike")
        print("python: \(messages.count) delta messages, \(python.count) records decoded as Swift does")
    }

    /// A dashboard's subscription: `*` at 250 ms on delta, default feed.
    @Test func allSymbolsAt250MsOnDeltaStayUnder60KBPerSecond() async throws {
        try await withServer { server throws in
            usleep(300_000)
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port,
                                                         query: "symbols=*&interval_ms=250&encoding=delta"))
            defer { client.close() }
            var records = 0, startBytes = 0
            var started: Date?
            let deadline = Date().addingTimeInterval(4)
            while Date() < deadline {
                guard let event = try client.next(timeoutMs: 100) else { continue }
                if case .decodeError(let why) = event { Issue.record("\(why)") }
                guard case .ticks(_, let ticks) = event else { continue }
                if started == nil {
                    // The snapshot message is over: measure from the next message on.
                    started = Date()
                    startBytes = client.binaryFrameBytes
                    continue
                }
                records += ticks.count
            }
            let seconds = Date().timeIntervalSince(try #require(started))
            let bytes = client.binaryFrameBytes - startBytes
            print("delta, * at 250 ms: " + String(format: "%.1f KB/s, %.1f records/s, %.2f B per record",
                                                  Double(bytes) / seconds / 1_000, Double(records) / seconds,
                                                  Double(bytes) / Double(max(1, records))))
            #expect(client.tracker.gaps.isEmpty)
            #expect(Double(records) / seconds > Double(server.symbols.count) * 2, "the samples arrive")
            #expect(Double(bytes) / seconds < 60_000)
        }
    }

    @Test func aBadEncodingIsABadRequestAndTheConnectionStaysRaw() async throws {
        try await withServer { server throws in
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port,
                                                         query: "symbols=AAPL&encoding=zip"))
            defer { client.close() }
            var replies: [ControlReply] = []
            let deadline = Date().addingTimeInterval(5)
            while replies.count < 2, Date() < deadline {
                if case .control(let reply)? = try client.next(timeoutMs: 200) { replies.append(reply) }
            }
            guard replies.count == 2, case .welcome(let info) = replies[0], case .error(let error) = replies[1] else {
                Issue.record("\(replies)")
                return
            }
            #expect(info.encoding == "raw")
            #expect(error.code == .badRequest && error.message.contains("encoding"))
        }
    }

    @Test func oneTickPerMessageAnswersADeltaRequestWithRaw() async throws {
        try await withServer({ $0.hub.delivery = .perTick }) { server throws in
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port,
                                                         query: "symbols=AAPL&encoding=delta"))
            defer { client.close() }
            var encoding: String??
            var ticks = 0
            let deadline = Date().addingTimeInterval(5)
            while ticks < 5, Date() < deadline {
                switch try client.next(timeoutMs: 200) {
                case .control(.welcome(let info))?: encoding = info.encoding
                case .ticks(_, let batch)?: ticks += batch.count
                default: break
                }
            }
            #expect(encoding == "raw")
            #expect(ticks >= 5)
            #expect(client.binaryFrameBytes >= ticks * (2 + TickWire.messageSize(recordCount: 1)), "raw v1 frames")
        }
    }
}
