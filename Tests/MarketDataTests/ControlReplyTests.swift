import Testing
@testable import MarketData

@Suite struct ControlReplyTests {
    static let welcome = WelcomeInfo(
        symbolCount: 520,
        limits: ConnectionLimits(maxSymbolsPerConnection: 520, maxMessagesPerSecond: 50, maxMessageBytes: 65536))

    static let goldenReplies: [(String, ControlReply)] = [
        ("reply_welcome.json", .welcome(welcome)),
        ("reply_subscribed.json", .subscribed(id: 1, symbols: [SymbolRef(symbol: "AAPL", id: 0), SymbolRef(symbol: "MSFT", id: 1)])),
        ("reply_unsubscribed.json", .unsubscribed(id: 2, symbols: [SymbolRef(symbol: "MSFT", id: 1)])),
        ("reply_subscriptions.json", .subscriptions(id: 3, symbols: [SymbolRef(symbol: "AAPL", id: 0)])),
        ("reply_pong.json", .pong(id: 4, timeNs: 1_717_171_200_123_456_789)),
        ("reply_error.json", .error(ControlError(code: .unknownSymbol, id: 5, message: "1 unknown symbol: XXX", symbols: ["XXX"]))),
        ("reply_welcome_epoch.json", .welcome({ var w = welcome; w.epoch = 4_503_599_627_370_497; return w }())),
        ("reply_subscribed_resume.json", .subscribed(
            id: 7, symbols: [SymbolRef(symbol: "AAPL", id: 0), SymbolRef(symbol: "MSFT", id: 1)],
            resume: ResumeReport(resumed: ["AAPL"], reset: ["MSFT"]))),
        ("reply_error_no_id.json", .error(ControlError(code: .badRequest, message: "request is not valid JSON"))),
    ]

    @Test(arguments: goldenReplies)
    func encodingMatchesGolden(file: String, reply: ControlReply) throws {
        #expect(reply.encoded() == (try Fixtures.text("golden/" + file)))
    }

    @Test func decoderErrorsEncodeAsGoldenErrorReply() throws {
        do {
            _ = try ControlRequestDecoder.decode("not json")
            Issue.record("expected an error")
        } catch {
            #expect(ControlReply.error(error).encoded() == (try Fixtures.text("golden/reply_error_no_id.json")))
        }
    }

    @Test func emptySymbolListsEncodeAsEmptyArrays() {
        #expect(ControlReply.subscriptions(id: nil, symbols: []).encoded() == #"{"type":"subscriptions","symbols":[]}"#)
    }
}
