import TestSupport
import Testing
import WebSocketProtocol

/// Feeds `bytes` in every chunking and checks each gives the same frames (or error).
private func parseEverySplit(
    _ bytes: [UInt8], role: WebSocketFrameParser.Role, maxFrameSize: Int = 1 << 20
) -> Result<[WebSocketFrame], WebSocketProtocolError> {
    var results: [Result<[WebSocketFrame], WebSocketProtocolError>] = []
    for chunking in SplitFeeding.chunkings(of: bytes) {
        var parser = WebSocketFrameParser(role: role, maxFrameSize: maxFrameSize)
        var frames: [WebSocketFrame] = []
        var outcome: Result<[WebSocketFrame], WebSocketProtocolError>?
        feeding: for chunk in chunking.chunks {
            parser.append(chunk)
            do {
                while let frame = try parser.next() { frames.append(frame) }
            } catch {
                outcome = .failure(error)
                break feeding
            }
        }
        if outcome == nil {
            #expect(parser.bufferedByteCount == 0, "\(chunking.name): leftover bytes")
        }
        results.append(outcome ?? .success(frames))
    }
    #expect(results.allSatisfy { $0 == results[0] }, "chunkings disagree")
    return results[0]
}

private func expectError(_ bytes: [UInt8], role: WebSocketFrameParser.Role = .server, maxFrameSize: Int = 1 << 20,
                         _ expected: WebSocketProtocolError, code: UInt16 = 1002) {
    #expect(parseEverySplit(bytes, role: role, maxFrameSize: maxFrameSize) == .failure(expected))
    #expect(expected.closeCode.rawValue == code)
}

private let hello = Array("Hello".utf8)
private let rfcMask: UInt32 = 0x37FA_213D
private let maskedHello: [UInt8] = [0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]

@Suite struct WebSocketFrameParserTests {
    // RFC 6455 §5.7 examples.

    @Test func unmaskedText() {
        let frames = parseEverySplit([0x81, 0x05] + hello, role: .client)
        #expect(frames == .success([WebSocketFrame(header: .init(fin: true, opcode: .text, payloadLength: 5), payload: hello)]))
    }

    @Test func maskedText() {
        let frames = parseEverySplit([0x81, 0x85] + maskedHello, role: .server)
        #expect(frames == .success([WebSocketFrame(header: .init(fin: true, opcode: .text, maskKey: rfcMask, payloadLength: 5), payload: hello)]))
    }

    @Test func fragmentedText() {
        let frames = parseEverySplit([0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F], role: .client)
        #expect(frames == .success([
            WebSocketFrame(header: .init(fin: false, opcode: .text, payloadLength: 3), payload: Array("Hel".utf8)),
            WebSocketFrame(header: .init(fin: true, opcode: .continuation, payloadLength: 2), payload: Array("lo".utf8)),
        ]))
    }

    @Test func unmaskedPing() {
        let frames = parseEverySplit([0x89, 0x05] + hello, role: .client)
        #expect(frames == .success([WebSocketFrame(header: .init(fin: true, opcode: .ping, payloadLength: 5), payload: hello)]))
    }

    @Test func maskedPingAndPong() {
        let frames = parseEverySplit([0x89, 0x85] + maskedHello + [0x8A, 0x85] + maskedHello, role: .server)
        #expect(frames == .success([
            WebSocketFrame(header: .init(fin: true, opcode: .ping, maskKey: rfcMask, payloadLength: 5), payload: hello),
            WebSocketFrame(header: .init(fin: true, opcode: .pong, maskKey: rfcMask, payloadLength: 5), payload: hello),
        ]))
    }

    @Test func binary256WithSixteenBitLength() {
        let payload = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let frames = parseEverySplit([0x82, 0x7E, 0x01, 0x00] + payload, role: .client)
        #expect(frames == .success([WebSocketFrame(header: .init(fin: true, opcode: .binary, payloadLength: 256), payload: payload)]))
    }

    @Test func binary64KiBWithSixtyFourBitLength() {
        let payload = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 3) }
        let frames = parseEverySplit([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + payload, role: .client)
        #expect(frames == .success([WebSocketFrame(header: .init(fin: true, opcode: .binary, payloadLength: 65536), payload: payload)]))
    }

    @Test func maskedLargeFrameUnmasksAcrossChunks() {
        let payload = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
        let wire = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskKey: 0x0102_0304)
        let frames = parseEverySplit(wire, role: .server)
        #expect(frames == .success([WebSocketFrame(header: .init(fin: true, opcode: .binary, maskKey: 0x0102_0304, payloadLength: 1000), payload: payload)]))
    }

    @Test func emptyFramesAndBackToBack() {
        let frames = parseEverySplit([0x81, 0x00, 0x82, 0x00, 0x88, 0x00], role: .client)
        #expect((try? frames.get().map(\.header.opcode)) == [.text, .binary, .close])
    }

    // Violations, each with its close code.

    @Test func unmaskedClientFrame() { expectError([0x81, 0x05] + hello, .unmaskedClientFrame) }

    @Test func maskedServerFrame() { expectError([0x81, 0x85] + maskedHello, role: .client, .maskedServerFrame) }

    @Test(arguments: [0x10, 0x20, 0x40, 0x70] as [UInt8])
    func reservedBits(_ bits: UInt8) { expectError([0x81 | bits, 0x85] + maskedHello, .reservedBitsSet) }

    @Test(arguments: [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8])
    func reservedOpcode(_ opcode: UInt8) { expectError([0x80 | opcode, 0x80, 1, 2, 3, 4], .reservedOpcode(opcode)) }

    @Test func controlFrameTooLong() {
        expectError([0x89, 0xFE, 0x00, 0x7E, 1, 2, 3, 4] + Array(repeating: 0, count: 126), .controlFrameTooLong)
    }

    @Test func fragmentedControlFrame() { expectError([0x09, 0x85] + maskedHello, .fragmentedControlFrame) }

    @Test func lengthTopBitSetDoesNotTrap() {
        expectError([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], .lengthTopBitSet)
        expectError([0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4], .lengthTopBitSet)
    }

    @Test func declaredLengthOverLimitFailsAtHeaderTime() throws {
        // 2^62 declared: must fail from the header alone, with nothing buffered for the payload.
        var parser = WebSocketFrameParser(role: .server, maxFrameSize: 1024)
        parser.append([0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])
        #expect(throws: WebSocketProtocolError.frameTooLarge) { try parser.next() }
        #expect(parser.bufferedByteCount == 0)
        #expect(WebSocketProtocolError.frameTooLarge.closeCode.rawValue == 1009)
        expectError([0x82, 0xFE, 0x04, 0x01, 1, 2, 3, 4], maxFrameSize: 1024, .frameTooLarge, code: 1009)
        expectError([0x82, 0x80 | 11, 1, 2, 3, 4], maxFrameSize: 10, .frameTooLarge, code: 1009)
    }

    @Test func frameAtTheLimitIsAccepted() {
        let wire = WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 9, count: 1024), maskKey: 5)
        #expect((try? parseEverySplit(wire, role: .server, maxFrameSize: 1024).get().count) == 1)
    }

    @Test func errorsAreFinal() {
        var parser = WebSocketFrameParser(role: .server, maxFrameSize: 100)
        parser.append([0x83, 0x80])
        #expect(throws: WebSocketProtocolError.reservedOpcode(3)) { try parser.next() }
        parser.append([0x81, 0x85] + maskedHello)
        #expect(parser.bufferedByteCount == 0)
        #expect(throws: WebSocketProtocolError.reservedOpcode(3)) { try parser.next() }
    }

    @Test func consumedBytesAreDropped() throws {
        // Many frames trickled in pairs of chunks: the buffer never holds more than the unread tail.
        var parser = WebSocketFrameParser(role: .server, maxFrameSize: 1 << 20)
        let frame = [0x81, 0x85] + maskedHello
        var maxBuffered = 0
        for _ in 0..<1000 {
            parser.append(Array(frame[..<4]))
            maxBuffered = max(maxBuffered, parser.bufferedByteCount)
            let early = try parser.next()
            #expect(early == nil)
            parser.append(Array(frame[4...]))
            let complete = try parser.next()
            #expect(complete?.payload == hello)
        }
        #expect(parser.bufferedByteCount == 0)
        #expect(maxBuffered <= frame.count)
    }
}
