import Testing
import WebSocketProtocol

@Suite struct WebSocketProtocolErrorTests {
    @Test func closeCodes() {
        let protocolErrors: [WebSocketProtocolError] = [
            .unmaskedClientFrame, .maskedServerFrame, .reservedBitsSet, .reservedOpcode(3), .controlFrameTooLong,
            .fragmentedControlFrame, .lengthTopBitSet, .unexpectedContinuation, .expectedContinuation,
            .invalidCloseCode(999), .closePayloadTooShort,
        ]
        for error in protocolErrors {
            #expect(error.closeCode == .protocolError, "\(error)")
        }
        #expect(WebSocketProtocolError.frameTooLarge.closeCode == .messageTooBig)
        #expect(WebSocketProtocolError.messageTooLarge.closeCode == .messageTooBig)
        #expect(WebSocketProtocolError.tooManyFragments.closeCode == .policyViolation)
        #expect(WebSocketProtocolError.invalidUTF8.closeCode == .invalidPayload)
    }

    @Test func opcodeControlBit() {
        #expect(WebSocketOpcode.close.isControl && WebSocketOpcode.ping.isControl && WebSocketOpcode.pong.isControl)
        #expect(!WebSocketOpcode.text.isControl && !WebSocketOpcode.binary.isControl && !WebSocketOpcode.continuation.isControl)
    }
}
