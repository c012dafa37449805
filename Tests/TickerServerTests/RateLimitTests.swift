import MarketData
import Testing
import TickerServer
import WebSocketProtocol

/// Rate limiting on real sockets: a refused request is answered, not dropped.
@Suite(.serialized) struct RateLimitTests {
    /// The answers (text frames after the welcome) decoded, in order.
    private func answers(in bytes: [UInt8]) -> [ControlReply] {
        serverFrames(after: bytes).filter { $0.header.opcode == .text }.dropFirst()
            .compactMap { try? ControlReplyDecoder.decode(String(decoding: $0.payload, as: UTF8.self)) }
    }

    @Test func everyRequestOfABurstIsAnsweredWithItsID() async throws {
        let burst = 150
        let rate = 50
        try await withServer({ $0.overload.maxMessagesPerSecond = rate }) { server throws in
            let s = try RawSocket(port: server.port)
            try s.write(upgradeRequest())
            #expect(try s.read(timeoutMs: 3_000) { serverFrames(after: $0).count >= 1 }, "welcome")

            // One write: the server sees the whole burst at once, far over the rate.
            let frames = (0..<burst).flatMap { maskedFrame(.text, Array(#"{"op":"ping","id":\#($0)}"#.utf8)) }
            try s.write(frames)
            #expect(try s.read(timeoutMs: 5_000) { answers(in: $0).count >= burst }, "an answer for every request")

            var pongs = 0
            var refused = 0
            var ids: [Int] = []
            for reply in answers(in: s.received) {
                switch reply {
                case .pong(let id?, _):
                    pongs += 1
                    ids.append(id)
                case .error(let error) where error.code == .rateLimited:
                    refused += 1
                    if let id = error.id { ids.append(id) } else { Issue.record("rate_limited without an id") }
                default:
                    Issue.record("unexpected answer \(reply)")
                }
            }
            #expect(ids.sorted() == Array(0..<burst), "each id answered exactly once")
            #expect(pongs + refused == burst)
            #expect(pongs >= rate && refused > 0, "\(pongs) pongs, \(refused) refusals")
            #expect(!serverFrames(after: s.received).contains { $0.header.opcode == .close }, "below the abusive cutoff")
        }
    }

    @Test func refusalsWithoutAReadableIDStillGetAnAnswer() async throws {
        try await withServer({ $0.overload.maxMessagesPerSecond = 1 }) { server throws in
            let s = try RawSocket(port: server.port)
            try s.write(upgradeRequest())
            #expect(try s.read(timeoutMs: 3_000) { serverFrames(after: $0).count >= 1 }, "welcome")
            let texts = [#"{"op":"ping","id":1}"#, "not json", #"{"op":"ping","id":"x"}"#, #"{"op":"list","id":4}"#]
            try s.write(texts.flatMap { maskedFrame(.text, Array($0.utf8)) } + maskedFrame(.binary, [1, 2, 3]))
            #expect(try s.read(timeoutMs: 5_000) { answers(in: $0).count >= 5 })
            let errors = answers(in: s.received).dropFirst().compactMap { reply -> ControlError? in
                if case .error(let error) = reply { error } else { nil }
            }
            #expect(errors.map(\.code) == Array(repeating: .rateLimited, count: 4))
            #expect(errors.map(\.id) == [nil, nil, 4, nil])
        }
    }
}
