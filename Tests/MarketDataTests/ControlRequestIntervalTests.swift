import MarketData
import Testing

@Suite struct ControlRequestIntervalTests {
    @Test func intervalIsDecodedAndRoundTrips() throws {
        let request = try ControlRequestDecoder.decode(#"{"op":"subscribe","id":3,"symbols":["*"],"interval_ms":250}"#)
        #expect(request == .subscribe(id: 3, symbols: ["*"], intervalMs: 250))
        #expect(request.encoded() == #"{"op":"subscribe","id":3,"symbols":["*"],"interval_ms":250}"#)
        #expect(try ControlRequestDecoder.decode(request.encoded()) == request)
    }

    @Test func absentNullOrZeroIsEveryTickAndEncodesAsBefore() throws {
        for text in [#"{"op":"subscribe","symbols":["A"]}"#, #"{"op":"subscribe","symbols":["A"],"interval_ms":null}"#,
                     #"{"op":"subscribe","symbols":["A"],"interval_ms":0}"#] {
            #expect(try ControlRequestDecoder.decode(text) == .subscribe(id: nil, symbols: ["A"]))
        }
        #expect(!ControlRequest.subscribe(id: 1, symbols: ["A"]).encoded().contains("interval_ms"), "v1 requests byte for byte")
    }

    @Test(arguments: ["1", "49", "60001", "-250", "250.5", "\"250\"", "true", "[250]", "99999999999999999999"])
    func outOfRangeOrNotAnIntegerIsBadRequest(_ value: String) {
        do {
            _ = try ControlRequestDecoder.decode(#"{"op":"subscribe","id":4,"symbols":["A"],"interval_ms":"# + value + "}")
            Issue.record("accepted interval_ms \(value)")
        } catch {
            #expect(error.code == .badRequest)
            #expect(error.id == 4)
            #expect(error.message.contains("interval_ms"))
        }
    }

    @Test(arguments: [50, 60_000, 1_000])
    func boundsAreAccepted(_ ms: Int) throws {
        #expect(try ControlRequestDecoder.decode(#"{"op":"subscribe","symbols":["A"],"interval_ms":\#(ms)}"#)
            == .subscribe(id: nil, symbols: ["A"], intervalMs: ms))
    }
}

@Suite struct SubscriptionsIntervalTests {
    let refs = [SymbolRef(symbol: "AAPL", id: 0), SymbolRef(symbol: "MSFT", id: 1)]

    @Test func listNamesTheIntervalsAsANewKeyOnlyWhenAny() throws {
        let reply = ControlReply.subscriptions(id: 3, symbols: refs, intervals: ["MSFT": 500, "AAPL": 250])
        let text = reply.encoded()
        #expect(text == #"{"type":"subscriptions","id":3,"symbols":[{"symbol":"AAPL","id":0},{"symbol":"MSFT","id":1}],"intervals":{"AAPL":250,"MSFT":500}}"#)
        #expect(try ControlReplyDecoder.decode(text) == reply)
        #expect(!ControlReply.subscriptions(id: 3, symbols: refs).encoded().contains("intervals"), "v1 bytes when none")
    }
}
