/// A decoded frame header. `maskKey` holds the four key bytes big-endian, exactly as they
/// appear on the wire (first key byte in the most significant position), so that
/// `writeHeader` can emit it with shifts and tests can read it against the RFC examples.
public struct WebSocketFrameHeader: Equatable, Sendable {
    public var fin: Bool
    /// The three RSV bits in the low bits (RSV1 = 0b100). Non-zero only with an extension.
    public var rsv: UInt8
    public var opcode: WebSocketOpcode
    public var maskKey: UInt32?
    public var payloadLength: Int

    public init(fin: Bool, rsv: UInt8 = 0, opcode: WebSocketOpcode, maskKey: UInt32? = nil, payloadLength: Int) {
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.maskKey = maskKey
        self.payloadLength = payloadLength
    }
}

/// One frame with its payload already unmasked, so consumers never see wire masking.
public struct WebSocketFrame: Equatable, Sendable {
    public var header: WebSocketFrameHeader
    public var payload: [UInt8]

    public init(header: WebSocketFrameHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }
}
