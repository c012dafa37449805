import Testing
@testable import MarketData

@Suite struct ControlReplyDecoderTests {
    private func failure(_ text: String) -> MalformedReply? {
        do {
            _ = try ControlReplyDecoder.decode(text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ControlReplyTests.goldenReplies)
    func decodesGoldenReplies(file: String, reply: ControlReply) throws {
        #expect(try ControlReplyDecoder.decode(try Fixtures.text("golden/" + file)) == reply)
    }

    @Test func roundTripsEscapedMessages() throws {
        let reply = ControlReply.error(ControlError(code: .rateLimited, id: 0, message: "slow \"down\"\n\t\\ ✓"))
        #expect(try ControlReplyDecoder.decode(reply.encoded()) == reply)
    }

    @Test func acceptsNullIDAndIgnoresUnknownKeys() throws {
        #expect(try ControlReplyDecoder.decode(#"{"type":"pong","id":null,"time_ns":5,"future":{}}"#) == .pong(id: nil, timeNs: 5))
    }

    @Test func rejectsMalformedReplies() {
        #expect(failure("nope") == MalformedReply(reason: "not valid JSON"))
        #expect(failure("[]") == MalformedReply(reason: "not a JSON object"))
        #expect(failure(#"{"id":1}"#) == MalformedReply(reason: "missing field \"type\""))
        #expect(failure(#"{"type":"bonus"}"#) == MalformedReply(reason: "unknown reply type \"bonus\""))
        #expect(failure(#"{"type":"pong","time_ns":-1}"#) == MalformedReply(reason: "negative time_ns"))
        #expect(failure(#"{"type":"subscribed","symbols":[{"symbol":"A"}]}"#) == MalformedReply(reason: "missing field \"id\""))
        #expect(failure(#"{"type":"subscribed","symbols":[{"symbol":"A","id":-1}]}"#) == MalformedReply(reason: "symbol id out of range for A"))
        #expect(failure(#"{"type":"error","code":"teapot","message":"x"}"#) == MalformedReply(reason: "unknown error code \"teapot\""))
        #expect(failure(#"{"type":"welcome","protocol":1}"#) == MalformedReply(reason: "missing field \"limits\""))
    }
}
