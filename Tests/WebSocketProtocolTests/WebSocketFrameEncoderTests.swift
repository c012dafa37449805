import Testing
import WebSocketProtocol

@Suite struct WebSocketFrameEncoderTests {
    @Test func rfcExamples() {
        #expect(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hello".utf8))
            == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hello".utf8), maskKey: 0x37FA_213D)
            == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        #expect(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hel".utf8), fin: false)
            == [0x01, 0x03, 0x48, 0x65, 0x6C])
    }

    @Test(arguments: [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
    func headerSizes(length: Int, size: Int) {
        #expect(WebSocketFrameEncoder.headerSize(payloadLength: length, masked: false) == size)
        #expect(WebSocketFrameEncoder.headerSize(payloadLength: length, masked: true) == size + 4)
        var header: [UInt8] = []
        WebSocketFrameEncoder.writeHeader(into: &header, opcode: .binary, payloadLength: length)
        #expect(header.count == size)
    }

    @Test func lengthEncodings() {
        var header: [UInt8] = []
        WebSocketFrameEncoder.writeHeader(into: &header, opcode: .binary, payloadLength: 256)
        #expect(header == [0x82, 0x7E, 0x01, 0x00])
        header = []
        WebSocketFrameEncoder.writeHeader(into: &header, opcode: .binary, payloadLength: 65536)
        #expect(header == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        header = [0xAA]
        WebSocketFrameEncoder.writeHeader(into: &header, opcode: .ping, payloadLength: 0, maskKey: 0x0102_0304)
        #expect(header == [0xAA, 0x89, 0x80, 1, 2, 3, 4])
    }

    @Test func roundTripsThroughTheParser() throws {
        for length in [0, 1, 125, 126, 127, 65535, 65536] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
            var parser = WebSocketFrameParser(role: .server, maxFrameSize: 1 << 20)
            parser.append(WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskKey: 0xA1B2_C3D4))
            let frame = try parser.next()
            #expect(frame?.payload == payload, "length \(length)")
            #expect(frame?.header.payloadLength == length)
        }
    }

    @Test func closeFrames() {
        #expect(WebSocketFrameEncoder.encodeClose(code: nil, reason: "ignored") == [0x88, 0x00])
        #expect(WebSocketFrameEncoder.encodeClose(code: .normal, reason: "bye") == [0x88, 0x05, 0x03, 0xE8] + Array("bye".utf8))
    }

    @Test func closeReasonIsTruncatedOnACharacterBoundary() {
        let frame = WebSocketFrameEncoder.encodeClose(code: .goingAway, reason: String(repeating: "€", count: 60))
        #expect(frame[1] == 2 + 41 * 3)  // 123 bytes of reason fit 41 three-byte characters
        var validator = UTF8Validator()
        let valid = validator.feed(Array(frame[4...])) && validator.isComplete
        #expect(valid)
    }
}
