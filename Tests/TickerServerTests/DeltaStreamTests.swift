import Foundation
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
            let delta = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port,
                                                        query: "symbols=*&encoding=delta"))
            defer {
                raw.close()
                delta.close()
            }
            var rawRecords: [Key: Tick] = [:]
            var deltaRecords: [Key: Tick] = [:]
            var encodings: [String?] = []
            var decodeErrors: [TickDeltaError] = []
            var warm = true
            var measuredBytes = 0, measuredTicks = 0, keyframes = 0
            let start = Date()
            let seconds = 4.0, warmUp = 1.0
            while Date().timeIntervalSince(start) < seconds {
                var idle = true
                while let event = try raw.next(timeoutMs: 0) {
                    idle = false
                    if case .control(.welcome(let info)) = event { encodings.append(info.encoding) }
                    if case .ticks(_, let ticks) = event {
                        for t in ticks { rawRecords[Key(symbol: t.symbolId, sequence: t.sequence)] = t }
                    }
                }
                while let event = try delta.next(timeoutMs: 0) {
                    idle = false
                    switch event {
                    case .control(.welcome(let info)): encodings.append(info.encoding)
                    case .decodeError(let why): decodeErrors.append(why)
                    case .ticks(_, let ticks):
                        for t in ticks { deltaRecords[Key(symbol: t.symbolId, sequence: t.sequence)] = t }
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
            #expect(encodings == ["raw", "delta"])
            #expect(decodeErrors.isEmpty)
            #expect(raw.tracker.gaps.isEmpty && delta.tracker.gaps.isEmpty)
            var both = 0, different: [String] = []
            for (key, mine) in deltaRecords {
                guard let theirs = rawRecords[key] else { continue }
                both += 1
                if mine != theirs && different.count < 5 { different.append("\(theirs) vs \(mine)") }
            }
            #expect(both > 10_000, "records both received: \(both)")
            #expect(different.isEmpty, "\(different)")
            let perTick = Double(measuredBytes) / Double(max(1, measuredTicks))
            print("delta: \(measuredBytes) bytes of WebSocket frames for \(measuredTicks) ticks: "
                  + String(format: "%.2f", perTick) + " B per delivered tick (raw records: \(rawRecords.count), "
                  + "delta records: \(deltaRecords.count), both: \(both))")
            #expect(measuredTicks > 10_000)
            #expect(perTick <= 14, "bytes per delivered tick")
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
