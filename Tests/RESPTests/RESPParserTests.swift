import TestSupport
import Testing
import RESP

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Feeds `input` in every chunking; checks each gives the same values (or error).
private func parseEverySplit(_ input: [UInt8], limits: RESPLimits = .default) -> Result<[RESPValue], RESPError> {
    var results: [Result<[RESPValue], RESPError>] = []
    for chunking in SplitFeeding.chunkings(of: input) {
        var parser = RESPParser(limits: limits)
        var values: [RESPValue] = []
        var outcome: Result<[RESPValue], RESPError>?
        feeding: for chunk in chunking.chunks {
            parser.append(chunk)
            do {
                while let value = try parser.next() { values.append(value) }
            } catch {
                outcome = .failure(error)
                break feeding
            }
        }
        if outcome == nil {
            #expect(parser.bufferedByteCount == 0, "\(chunking.name): leftover bytes")
            #expect(!parser.isMidValue, "\(chunking.name): value left open")
        }
        results.append(outcome ?? .success(values))
    }
    #expect(results.allSatisfy { $0 == results[0] }, "chunkings disagree")
    return results[0]
}

private func parse(_ text: String, limits: RESPLimits = .default) -> Result<[RESPValue], RESPError> {
    parseEverySplit(bytes(text), limits: limits)
}

@Suite struct RESPParserTests {
    @Test func resp2Scalars() {
        #expect(parse("+OK\r\n-ERR wrong type\r\n:0\r\n:-42\r\n:9223372036854775807\r\n:-9223372036854775808\r\n") == .success([
            .simpleString("OK"), .error("ERR wrong type"), .integer(0), .integer(-42), .integer(.max), .integer(.min),
        ]))
    }

    @Test func bulkStringsCarryBinaryAndCRLF() {
        #expect(parse("$5\r\nhello\r\n$0\r\n\r\n$4\r\na\r\nb\r\n$-1\r\n") == .success([
            .bulkString(bytes("hello")), .bulkString([]), .bulkString(bytes("a\r\nb")), .null,
        ]))
        #expect(parseEverySplit([0x24, 0x33, 0x0D, 0x0A, 0x00, 0xFF, 0x0D, 0x0D, 0x0A]) == .success([.bulkString([0x00, 0xFF, 0x0D])]))
    }

    @Test func nestedArrays() {
        // The shape of an XREAD reply: [[key, [[id, [field, value]]]]].
        let text = "*1\r\n*2\r\n$4\r\nfeed\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nb\r\n$3\r\nxyz\r\n"
        #expect(parse(text) == .success([
            .array([.array([.bulkString(bytes("feed")), .array([.array([
                .bulkString(bytes("1-0")), .array([.bulkString(bytes("b")), .bulkString(bytes("xyz"))]),
            ])])])]),
        ]))
        #expect(parse("*0\r\n*-1\r\n*2\r\n*0\r\n:1\r\n") == .success([.array([]), .null, .array([.array([]), .integer(1)])]))
    }

    @Test func resp3Types() {
        let text = "_\r\n#t\r\n#f\r\n,1.5\r\n,-0.25\r\n,inf\r\n,-inf\r\n,10\r\n(3492890328409238509324850943850943825024385\r\n"
            + "!21\r\nSYNTAX invalid syntax\r\n=15\r\ntxt:Some string\r\n%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n"
            + "~2\r\n+a\r\n+b\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        #expect(parse(text) == .success([
            .null, .boolean(true), .boolean(false), .double(1.5), .double(-0.25), .double(.infinity), .double(-.infinity),
            .double(10), .bigNumber("3492890328409238509324850943850943825024385"),
            .bulkError(bytes("SYNTAX invalid syntax")), .verbatim(format: "txt", text: bytes("Some string")),
            .map([RESPPair(key: .simpleString("first"), value: .integer(1)),
                  RESPPair(key: .bulkString(bytes("second")), value: .integer(2))]),
            .set([.simpleString("a"), .simpleString("b")]),
            .push([.bulkString(bytes("message")), .bulkString(bytes("ch")), .bulkString(bytes("hi"))]),
        ]))
        #expect(parse(",nan\r\n") == .success([.double(.nan)]))
    }

    @Test func attributesAreDropped() {
        // RESP3 spec example: an attribute before an array, and one inside an aggregate.
        let text = "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n"
            + "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n"
        #expect(parse(text) == .success([.array([.integer(2039123), .integer(9543892)]), .array([.integer(1), .integer(2)])]))
    }

    @Test func malformedLinesAreNamedErrors() {
        #expect(parse("?x\r\n") == .failure(.unknownType(UInt8(ascii: "?"))))
        #expect(parse("+OK\rX") == .failure(.badLineEnding))
        #expect(parse("+O\nK\r\n") == .failure(.badLineEnding))
        #expect(parse(":12a\r\n") == .failure(.invalidInteger))
        #expect(parse(":\r\n") == .failure(.invalidInteger))
        #expect(parse(":-\r\n") == .failure(.invalidInteger))
        #expect(parse(":9223372036854775808\r\n") == .failure(.invalidInteger))
        #expect(parse("$-2\r\n") == .failure(.invalidLength))
        #expect(parse("$abc\r\n") == .failure(.invalidLength))
        #expect(parse("$3\r\nabcX\r\n") == .failure(.badLineEnding))
        #expect(parse("!-1\r\n") == .failure(.invalidLength))
        #expect(parse("%-1\r\n") == .failure(.invalidLength))
        #expect(parse("#x\r\n") == .failure(.invalidBoolean))
        #expect(parse(",1.5x\r\n") == .failure(.invalidDouble))
        #expect(parse(",\r\n") == .failure(.invalidDouble))
        #expect(parse(",infinity\r\n") == .failure(.invalidDouble))
        #expect(parse("(12a\r\n") == .failure(.invalidBigNumber))
        #expect(parse("_x\r\n") == .failure(.malformed))
        #expect(parse("=3\r\ntxt\r\n") == .failure(.malformed))
        #expect(parse("$?\r\n;4\r\nHell\r\n;0\r\n") == .failure(.streamedTypeUnsupported))
        #expect(parse("*?\r\n:1\r\n.\r\n") == .failure(.streamedTypeUnsupported))
    }

    @Test func declaredSizesAreCheckedFromTheHeaderAlone() {
        let limits = RESPLimits(maxBulkLength: 100, maxAggregateCount: 10)
        // No payload follows: the error comes from the header, nothing is reserved.
        #expect(parse("$101\r\n", limits: limits) == .failure(.bulkTooLong(101)))
        #expect(parse("$9223372036854775807\r\n") == .failure(.bulkTooLong(.max)))
        #expect(parse("*11\r\n", limits: limits) == .failure(.aggregateTooLarge(11)))
        #expect(parse("%6\r\n", limits: limits) == .failure(.aggregateTooLarge(6)))
        #expect(parse("*9223372036854775807\r\n") == .failure(.aggregateTooLarge(.max)))
        #expect(parse("$100\r\n" + String(repeating: "a", count: 100) + "\r\n", limits: limits)
                == .success([.bulkString(Array(repeating: UInt8(ascii: "a"), count: 100))]))
    }

    @Test func lineLengthIsBounded() {
        let limits = RESPLimits(maxLineLength: 8)
        #expect(parse("+12345678\r\n", limits: limits) == .success([.simpleString("12345678")]))
        #expect(parse("+123456789\r\n", limits: limits) == .failure(.lineTooLong))
        // Without a CRLF at all, the error comes once the limit is passed.
        var parser = RESPParser(limits: limits)
        parser.append(bytes("+12345678"))
        #expect(throws: Never.self) { try parser.next() }
        parser.append(bytes("9"))
        #expect(throws: RESPError.lineTooLong) { try parser.next() }
    }

    @Test func nestingDepthIsBounded() {
        let limits = RESPLimits(maxDepth: 4)
        #expect(parse(String(repeating: "*1\r\n", count: 4) + ":1\r\n", limits: limits)
                == .success([.array([.array([.array([.array([.integer(1)])])])])]))
        #expect(parse(String(repeating: "*1\r\n", count: 5) + ":1\r\n", limits: limits) == .failure(.nestingTooDeep))
        // Deep nesting with the defaults is an error, not a stack overflow.
        #expect(parse(String(repeating: "*1\r\n", count: 100_000)) == .failure(.nestingTooDeep))
    }

    @Test func valueSizeIsBounded() {
        let limits = RESPLimits(maxValueBytes: 64)
        #expect(parse("*10\r\n" + String(repeating: ":1\r\n", count: 10), limits: limits).map(\.count) == .success(1))
        #expect(parse("*20\r\n" + String(repeating: ":1\r\n", count: 20), limits: limits) == .failure(.valueTooLarge))
        #expect(parse("$70\r\n", limits: limits) == .failure(.valueTooLarge))
        // Each top-level value gets its own budget.
        #expect(parse(String(repeating: "$10\r\n0123456789\r\n", count: 20), limits: limits).map(\.count) == .success(20))
    }

    @Test func errorsAreFinal() throws {
        var parser = RESPParser()
        parser.append(bytes("+OK\r\n?\r\n+OK\r\n"))
        #expect(try parser.next() == .simpleString("OK"))
        #expect(throws: RESPError.unknownType(UInt8(ascii: "?"))) { try parser.next() }
        parser.append(bytes("+OK\r\n"))
        #expect(throws: RESPError.unknownType(UInt8(ascii: "?"))) { try parser.next() }
        #expect(parser.bufferedByteCount == 0)
        parser.reset()
        parser.append(bytes("+OK\r\n"))
        #expect(try parser.next() == .simpleString("OK"))
    }

    @Test func partialInputWaits() throws {
        var parser = RESPParser()
        parser.append(bytes("*2\r\n$3\r\nfo"))
        #expect(try parser.next() == nil)
        #expect(parser.isMidValue)
        parser.append(bytes("o\r\n:7"))
        #expect(try parser.next() == nil)
        parser.append(bytes("\r\n"))
        #expect(try parser.next() == .array([.bulkString(bytes("foo")), .integer(7)]))
        #expect(!parser.isMidValue)
    }
}

@Suite struct RESPParserCornerTests {
    @Test func verbatimFormatIsASCII() {
        #expect(parse("=6\r\nt\u{7F}x:ab\r\n") == .failure(.malformed))
        #expect(parse("=4\r\nmkd:\r\n") == .success([.verbatim(format: "mkd", text: [])]))
    }
}
