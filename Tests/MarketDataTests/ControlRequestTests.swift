import Testing
@testable import MarketData

@Suite struct ControlRequestTests {
    @Test(arguments: [
        ("request_subscribe.json", ControlRequest.subscribe(id: 1, symbols: ["AAPL", "MSFT"])),
        ("request_subscribe_all.json", .subscribe(id: nil, symbols: ["*"])),
        ("request_subscribe_from.json", .subscribe(
            id: 7, symbols: ["AAPL", "MSFT"],
            resume: ResumeRequest(points: [ResumePoint(symbol: "AAPL", sequence: 18_233), ResumePoint(symbol: "MSFT", sequence: 9_120)],
                                  epoch: 4_503_599_627_370_497))),
        ("request_unsubscribe.json", .unsubscribe(id: 2, symbols: ["MSFT"])),
        ("request_list.json", .list(id: 3)),
        ("request_ping.json", .ping(id: 4)),
    ])
    func encodingMatchesGoldenAndDecodesBack(file: String, request: ControlRequest) throws {
        let golden = try Fixtures.text("golden/" + file)
        #expect(request.encoded() == golden)
        #expect(try ControlRequestDecoder.decode(golden) == request)
    }

    @Test func encodingEscapesStrings() throws {
        let request = ControlRequest.subscribe(id: nil, symbols: ["A\"B\\C\n\u{1}"])
        #expect(request.encoded() == #"{"op":"subscribe","symbols":["A\"B\\C\n\u0001"]}"#)
        #expect(try ControlRequestDecoder.decode(request.encoded()) == request)
    }
}
