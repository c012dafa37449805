import Testing
@testable import MarketData

@Suite struct ControlRequestDecoderTests {
    private func failure(_ text: String) -> ControlError? {
        do {
            _ = try ControlRequestDecoder.decode(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesValidRequestsWithAndWithoutIDs() throws {
        #expect(try ControlRequestDecoder.decode(#"{"op":"ping"}"#) == .ping(id: nil))
        #expect(try ControlRequestDecoder.decode(#"{"op":"ping","id":null}"#) == .ping(id: nil))
        #expect(try ControlRequestDecoder.decode(#" { "id" : -7 , "op" : "list" , "extra": [1] } "#) == .list(id: -7))
        #expect(try ControlRequestDecoder.decode(#"{"op":"unsubscribe","id":2.0,"symbols":["*"]}"#) == .unsubscribe(id: 2, symbols: ["*"]))
        #expect(try ControlRequestDecoder.decode(bytes: Array(#"{"op":"subscribe","symbols":["X"]}"#.utf8)) == .subscribe(id: nil, symbols: ["X"]))
    }

    @Test func rejectsNonJSONAndNonObjects() {
        #expect(failure("hello")?.code == .badRequest)
        #expect(failure("hello")?.message == "request is not valid JSON")
        #expect(failure("")?.code == .badRequest)
        #expect(failure(#"{"op":"ping""#)?.code == .badRequest)
        #expect(failure("[1,2]") == ControlError(code: .badRequest, message: "request must be a JSON object, got an array"))
        #expect(failure("42")?.code == .badRequest)
    }

    @Test func unknownOpKeepsTheID() {
        let error = failure(#"{"op":"subscribe_all","id":12}"#)
        #expect(error?.code == .unknownOp)
        #expect(error?.id == 12)
        #expect(error?.message.contains("subscribe_all") == true)
    }

    @Test func missingFieldsAreBadRequests() {
        #expect(failure(#"{"id":1}"#) == ControlError(code: .badRequest, id: 1, message: "missing field \"op\""))
        #expect(failure(#"{"op":"subscribe","id":3}"#) == ControlError(code: .badRequest, id: 3, message: "missing field \"symbols\""))
        #expect(failure(#"{"op":"unsubscribe"}"#)?.code == .badRequest)
    }

    @Test func wrongTypesAreBadRequests() {
        #expect(failure(#"{"op":5,"id":1}"#) == ControlError(code: .badRequest, id: 1, message: "field \"op\" must be a string, got a number"))
        #expect(failure(#"{"op":"ping","id":"1"}"#) == ControlError(code: .badRequest, message: "field \"id\" must be an integer, got a string"))
        #expect(failure(#"{"op":"ping","id":1.5}"#)?.code == .badRequest)
        #expect(failure(#"{"op":"ping","id":true}"#)?.code == .badRequest)
        #expect(failure(#"{"op":"subscribe","id":4,"symbols":"AAPL"}"#) == ControlError(code: .badRequest, id: 4, message: "field \"symbols\" must be an array of strings, got a string"))
        #expect(failure(#"{"op":"subscribe","id":4,"symbols":["AAPL",7]}"#) == ControlError(code: .badRequest, id: 4, message: "symbols[1] must be a string, got a number"))
        #expect(failure(#"{"op":"subscribe","id":4,"symbols":[]}"#)?.code == .badRequest)
    }

    @Test func oversizedInputIsRefusedBeforeParsing() {
        let padding = String(repeating: " ", count: ControlRequestDecoder.maxInputBytes)
        let error = failure(#"{"op":"ping","id":1}"# + padding)
        #expect(error?.code == .badRequest)
        #expect(error?.id == nil)
        #expect(error?.message.contains("65536") == true)
    }

    @Test func tooManySymbolsIsLimitExceeded() throws {
        let symbols = (0...ControlRequestDecoder.maxSymbolsPerRequest).map { _ in "\"A\"" }.joined(separator: ",")
        let text = #"{"op":"subscribe","id":8,"symbols":["# + symbols + "]}"
        #expect(text.utf8.count <= ControlRequestDecoder.maxInputBytes)
        let error = failure(text)
        #expect(error?.code == .limitExceeded)
        #expect(error?.id == 8)

        let exactlyAtLimit = (0..<ControlRequestDecoder.maxSymbolsPerRequest).map { _ in "\"A\"" }.joined(separator: ",")
        let accepted = try ControlRequestDecoder.decode(#"{"op":"subscribe","symbols":["# + exactlyAtLimit + "]}")
        guard case .subscribe(_, let list) = accepted else {
            Issue.record("expected subscribe, got \(accepted)")
            return
        }
        #expect(list.count == ControlRequestDecoder.maxSymbolsPerRequest)
    }

    @Test func errorCodesHaveStableRawValues() {
        #expect(ControlErrorCode.allCases.map(\.rawValue) == [
            "bad_request", "unknown_op", "unknown_symbol", "limit_exceeded", "rate_limited", "unexpected_binary",
            "bad_record", "symbol_owned", "sequence_stale", "sequence_gap",
        ])
    }
}
