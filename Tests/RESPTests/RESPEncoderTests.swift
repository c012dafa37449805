import Testing
import RESP

@Suite struct RESPEncoderTests {
    @Test func commandIsAnArrayOfBulkStrings() {
        #expect(RESPEncoder.command("SET", "k", "héllo") == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nhéllo\r\n".utf8))
        var out: [UInt8] = []
        RESPEncoder.command([[0x00, 0x0D, 0x0A]], into: &out)
        #expect(out == [0x2A, 0x31, 0x0D, 0x0A, 0x24, 0x33, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x0D, 0x0A])
        #expect(RESPEncoder.command() == Array("*0\r\n".utf8))
    }

    @Test func everyValueRoundTrips() throws {
        let values: [RESPValue] = [
            .simpleString("OK"), .error("ERR x"), .integer(.min), .integer(.max), .bulkString([0, 13, 10, 255]), .null,
            .array([]), .array([.integer(1), .array([.bulkString([])])]), .boolean(true), .boolean(false),
            .double(1.5), .double(-1e300), .double(.infinity), .double(-.infinity), .double(.nan), .double(.leastNonzeroMagnitude),
            .bigNumber("-123456789012345678901234567890"), .bulkError(Array("ERR\r\nx".utf8)),
            .verbatim(format: "mkd", text: Array("# hi".utf8)),
            .map([RESPPair(key: .simpleString("a"), value: .set([.integer(1)]))]), .push([.simpleString("invalidate")]),
        ]
        var wire: [UInt8] = []
        for value in values { RESPEncoder.encode(value, into: &wire) }
        var parser = RESPParser()
        parser.append(wire)
        var parsed: [RESPValue] = []
        while let value = try parser.next() { parsed.append(value) }
        #expect(parsed == values)
    }

    @Test func lineTypesNeverBreakFraming() throws {
        var parser = RESPParser()
        parser.append(RESPEncoder.encode(.simpleString("a\r\nb")))
        #expect(try parser.next() == .simpleString("a  b"))
    }

    @Test func accessors() {
        #expect(RESPValue.bulkString(Array("x".utf8)).string == "x")
        #expect(RESPValue.error("ERR").errorMessage == "ERR")
        #expect(RESPValue.array([.integer(1), .integer(2)]).pairs == [RESPPair(key: .integer(1), value: .integer(2))])
        #expect(RESPValue.array([.integer(1)]).pairs == nil)
        #expect(RESPValue.null.elements == nil)
    }
}
