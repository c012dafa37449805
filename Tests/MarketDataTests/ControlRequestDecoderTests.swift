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
        guard case .subscribe(_, let list, _, _) = accepted else {
            Issue.record("expected subscribe, got \(accepted)")
            return
        }
        #expect(list.count == ControlRequestDecoder.maxSymbolsPerRequest)
    }

    // MARK: - Hostile input (issue 9)

    @Test func theDeepNestingAttackIsABadRequest() {
        let error = failure(JSONParserTests.attack)
        #expect(error == ControlError(
            code: .badRequest, message: "request nests objects and arrays more than 8 levels deep"))
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let limit = ControlRequestDecoder.maxNestingDepth
        // The request object is level 1.
        func ping(extraLevels: Int) -> String {
            #"{"op":"ping","id":9,"x":"# + String(repeating: "[", count: extraLevels) + String(repeating: "]", count: extraLevels) + "}"
        }
        #expect(try ControlRequestDecoder.decode(ping(extraLevels: limit - 1)) == .ping(id: 9))
        #expect(failure(ping(extraLevels: limit))?.code == .badRequest)
        #expect(failure(ping(extraLevels: limit))?.message.contains("8 levels") == true)
    }

    @Test func duplicateKeysAreBadRequests() {
        #expect(failure(#"{"op":"ping","op":"list"}"#) ==
            ControlError(code: .badRequest, message: "request repeats the key \"op\" in one object"))
        #expect(failure(#"{"op":"ping","id":1,"\u0069d":2}"#)?.message == "request repeats the key \"id\" in one object")
        #expect(failure(#"{"op":"ping","x":{"a":1,"a":1}}"#)?.code == .badRequest)
        let long = String(repeating: "k", count: 1000)
        let message = failure(#"{"\#(long)":1,"\#(long)":2}"#)?.message ?? ""
        #expect(message.count < 100, "a repeated key is quoted only in part")
    }

    @Test func syntaxErrorsAreBadRequests() {
        for text in [#"{"op":"ping",}"#, #"{"op":"ping","id":01}"#, #"{"op":"ping","s":"\ud800"}"#, "{\"op\":\"ping\"} x"] {
            #expect(failure(text) == ControlError(code: .badRequest, message: "request is not valid JSON"), "\(text)")
        }
        #expect(failure(bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])?.message == "request is not valid JSON")
    }

    private func failure(bytes: [UInt8]) -> ControlError? {
        do {
            _ = try ControlRequestDecoder.decode(bytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func opIsComparedAsBytes() {
        // Escapes are decoded first; a long run of combining marks costs no normalisation.
        #expect(failure(#"{"op":"pin\u0067","id":2}"#) == nil)
        let marks = String(repeating: "\u{345}\u{301}\u{316}\u{5B0}\u{334}", count: 3000)
        let error = failure(#"{"op":"e\#(marks)","id":3}"#)
        #expect(error?.code == .unknownOp)
        #expect(error?.id == 3)
        #expect((error?.message.unicodeScalars.count ?? .max) < 120, "the op is echoed only in part")
    }

    @Test func symbolsLongerThanTheLimitAreBadRequests() throws {
        let atLimit = String(repeating: "A", count: ControlRequestDecoder.maxSymbolBytes)
        #expect(try ControlRequestDecoder.decode(#"{"op":"subscribe","symbols":["\#(atLimit)"]}"#) ==
            .subscribe(id: nil, symbols: [atLimit]))
        #expect(failure(#"{"op":"subscribe","id":5,"symbols":["AAPL","\#(atLimit)B"]}"#) ==
            ControlError(code: .badRequest, id: 5, message: "symbols[1] is longer than 32 bytes"))
    }

    @Test func requestIDIsReadWheneverDecodeWouldEchoIt() {
        #expect(ControlRequestDecoder.requestID(in: #"{"op":"ping","id":41}"#) == 41)
        #expect(ControlRequestDecoder.requestID(in: #"{"op":"dance","id":42}"#) == 42)
        #expect(ControlRequestDecoder.requestID(in: #"{"id":43.0}"#) == 43)
        #expect(ControlRequestDecoder.requestID(in: #"{"op":"ping"}"#) == nil)
        #expect(ControlRequestDecoder.requestID(in: #"{"op":"ping","id":"44"}"#) == nil)
        #expect(ControlRequestDecoder.requestID(in: #"{"op":"ping","id":45"#) == nil)
        #expect(ControlRequestDecoder.requestID(in: #"[{"id":46}]"#) == nil)
        #expect(ControlRequestDecoder.requestID(in: #"{"id":47,"id":47}"#) == nil)
        #expect(ControlRequestDecoder.requestID(in: JSONParserTests.attack) == nil)
    }

    @Test func errorCodesHaveStableRawValues() {
        #expect(ControlErrorCode.allCases.map(\.rawValue) == [
            "bad_request", "unknown_op", "unknown_symbol", "limit_exceeded", "rate_limited", "unexpected_binary",
            "forbidden", "invalid_token", "bad_record", "symbol_owned", "sequence_stale", "sequence_gap",
        ])
    }

    @Test func authCarriesItsTokenAndNeedsOne() throws {
        let request = try ControlRequestDecoder.decode(#"{"op":"auth","id":9,"token":"aaa.bbb.ccc"}"#)
        #expect(request == .auth(id: 9, token: "aaa.bbb.ccc"))
        #expect(request.encoded() == #"{"op":"auth","id":9,"token":"aaa.bbb.ccc"}"#)
        for bad in [#"{"op":"auth","id":3}"#, #"{"op":"auth","id":3,"token":""}"#, #"{"op":"auth","id":3,"token":7}"#] {
            #expect(throws: ControlError(code: .badRequest, id: 3, message: "auth needs \"token\": a non-empty string")) {
                _ = try ControlRequestDecoder.decode(bad)
            }
        }
        #expect(throws: ControlError(code: .unknownOp, id: nil,
                                     message: "unknown op \"login\"; expected subscribe, unsubscribe, list, ping or auth")) {
            _ = try ControlRequestDecoder.decode(#"{"op":"login"}"#)
        }
    }

    @Test func authRepliesRoundTrip() throws {
        let replies: [(ControlReply, String)] = [
            (.tokenExpiring(inMs: 29_750), #"{"type":"token_expiring","in_ms":29750}"#),
            (.authenticated(id: 9, expiresAt: 1_798_761_600), #"{"type":"authenticated","id":9,"exp":1798761600}"#),
            (.unsubscribed(id: nil, symbols: [SymbolRef(symbol: "MSFT", id: 1)], reason: "entitlement"),
             #"{"type":"unsubscribed","symbols":[{"symbol":"MSFT","id":1}],"reason":"entitlement"}"#),
        ]
        for (reply, text) in replies {
            #expect(reply.encoded() == text)
            #expect(try ControlReplyDecoder.decode(text) == reply)
        }
    }
}

@Suite struct ResumeRequestDecoderTests {
    private func error(_ text: String) -> ControlError? {
        do {
            _ = try ControlRequestDecoder.decode(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func fromIsOptionalAndOldRequestsDecodeAsBefore() throws {
        #expect(try ControlRequestDecoder.decode(#"{"op":"subscribe","symbols":["AAPL"]}"#) == .subscribe(id: nil, symbols: ["AAPL"]))
        #expect(try ControlRequestDecoder.decode(#"{"op":"subscribe","symbols":["AAPL"],"from":null}"#)
            == .subscribe(id: nil, symbols: ["AAPL"]))
    }

    @Test func fromKeepsTheClientsOrderAndAcceptsZeroAndTwoToThe53() throws {
        let request = try ControlRequestDecoder.decode(
            #"{"op":"subscribe","symbols":["*"],"from":{"MSFT":0,"AAPL":9007199254740992}}"#)
        #expect(request == .subscribe(id: nil, symbols: ["*"], resume: ResumeRequest(points: [
            ResumePoint(symbol: "MSFT", sequence: 0), ResumePoint(symbol: "AAPL", sequence: 9_007_199_254_740_992)])))
    }

    @Test(arguments: [
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":[1]}"#,
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":{"AAPL":-1}}"#,
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":{"AAPL":1.5}}"#,
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":{"AAPL":"12"}}"#,
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":{"AAPL":9007199254740993}}"#,
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":{"AAPL":1},"epoch":"x"}"#,
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":{"AAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPL":1}}"#,
        #"{"op":"subscribe","id":3,"symbols":["AAPL"],"from":{"AAPL":1,"AAPL":2}}"#,
    ])
    func badFromIsABadRequestWithTheID(text: String) {
        let failure = error(text)
        #expect(failure?.code == .badRequest)
        #expect(failure?.id == 3 || text.contains(#""AAPL":1,"AAPL":2"#))
    }
}
