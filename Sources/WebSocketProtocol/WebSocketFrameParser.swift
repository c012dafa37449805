/// Incremental frame parser. A value type with an explicit state so a connection can own
/// it without locks, and so tests can feed it any split of the input.
///
/// Every header rule (RSV bits, opcode, mask bit, control-frame rules, length) is checked
/// as soon as the bytes carrying it have arrived, before any payload is buffered: a hostile
/// length can never make us reserve memory. Payload bytes are unmasked in place as they
/// arrive, which lets the connection validate UTF-8 of a frame that is still incomplete.
public struct WebSocketFrameParser: Sendable {
    public enum Role: Sendable {
        /// Receives client frames, which RFC 6455 §5.1 requires to be masked.
        case server
        /// Receives server frames, which must not be masked.
        case client
    }

    enum State: Sendable {
        case header
        /// Header consumed; the payload starts at `readIndex`.
        case payload(WebSocketFrameHeader)
        /// Errors are final: after one, frame boundaries in the stream are unknown.
        case failed(WebSocketProtocolError)
    }

    private let role: Role
    private let maxFrameSize: Int
    private var state: State = .header
    private var buffer: [UInt8] = []
    /// Start of the bytes not yet consumed. Consumed bytes are dropped on the next append.
    private var readIndex = 0
    /// Payload bytes of the current frame already unmasked in place.
    private var unmaskedCount = 0

    /// Buffers up to this size are kept for reuse once drained; larger ones are released
    /// so a single big frame does not pin memory for the rest of the connection.
    private static let retainedCapacity = 16 * 1024

    public init(role: Role, maxFrameSize: Int) {
        self.role = role
        self.maxFrameSize = max(0, maxFrameSize)
    }

    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Between frames with nothing buffered: a fresh parser would behave the same.
    public var isAtFrameBoundary: Bool {
        if case .header = state { return bufferedByteCount == 0 }
        return false
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if case .failed = state { return }
        compact()
        buffer.append(contentsOf: bytes)
        unmaskReceived()
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Returns the next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(WebSocketProtocolError) -> WebSocketFrame? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .header:
                let parsed: (header: WebSocketFrameHeader, size: Int)?
                do {
                    parsed = try readHeader()
                } catch {
                    fail(error)
                    throw error
                }
                guard let parsed else { return nil }
                readIndex += parsed.size
                unmaskedCount = 0
                state = .payload(parsed.header)
                unmaskReceived()
            case .payload(let header):
                let length = header.payloadLength
                guard bufferedByteCount >= length else { return nil }
                let payload: [UInt8]
                if readIndex == 0 && buffer.count == length {
                    // Common for large frames: hand the buffer over instead of copying it.
                    payload = buffer
                    buffer = []
                } else {
                    payload = Array(buffer[readIndex..<(readIndex + length)])
                    readIndex += length
                }
                state = .header
                unmaskedCount = 0
                return WebSocketFrame(header: header, payload: payload)
            }
        }
    }

    /// The frame whose payload is arriving, with how many payload bytes (already
    /// unmasked) are buffered, or nil between frames.
    var partialFrame: (header: WebSocketFrameHeader, received: Int)? {
        guard case .payload(let header) = state else { return nil }
        return (header, min(bufferedByteCount, header.payloadLength))
    }

    /// Gives `body` the unmasked payload bytes of the partial frame from `offset` up to
    /// what has been received. Nothing is consumed.
    func withPartialPayload<R>(from offset: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard let partial = partialFrame, offset <= partial.received else { return nil }
        return buffer.withUnsafeBytes { raw in
            body(UnsafeRawBufferPointer(rebasing: raw[(readIndex + offset)..<(readIndex + partial.received)]))
        }
    }

    /// Drops buffered input once the connection will read no more frames, so a closed
    /// connection does not keep the tail of its last read alive.
    mutating func discardBufferedInput() {
        buffer = []
        readIndex = 0
        unmaskedCount = 0
        if case .payload = state { state = .header }
    }

    private mutating func fail(_ error: WebSocketProtocolError) {
        state = .failed(error)
        buffer = []
        readIndex = 0
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
        } else {
            buffer.removeSubrange(0..<readIndex)
        }
        readIndex = 0
    }

    private mutating func unmaskReceived() {
        guard case .payload(let header) = state, let key = header.maskKey else { return }
        let available = min(bufferedByteCount, header.payloadLength)
        guard available > unmaskedCount else { return }
        let start = readIndex + unmaskedCount
        let end = readIndex + available
        let offset = unmaskedCount
        buffer.withUnsafeMutableBytes { raw in
            WebSocketMasking.apply(key: key, offset: offset, to: UnsafeMutableRawBufferPointer(rebasing: raw[start..<end]))
        }
        unmaskedCount = available
    }

    /// Parses the header at `readIndex` without consuming it; nil when incomplete.
    private func readHeader() throws(WebSocketProtocolError) -> (header: WebSocketFrameHeader, size: Int)? {
        let available = bufferedByteCount
        guard available >= 2 else { return nil }
        let b0 = buffer[readIndex]
        let b1 = buffer[readIndex + 1]
        let fin = b0 & 0x80 != 0
        let rsv = (b0 >> 4) & 0x07
        if rsv != 0 { throw .reservedBitsSet }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else { throw .reservedOpcode(b0 & 0x0F) }
        let masked = b1 & 0x80 != 0
        switch role {
        case .server where !masked: throw .unmaskedClientFrame
        case .client where masked: throw .maskedServerFrame
        default: break
        }
        let shortLength = b1 & 0x7F
        if opcode.isControl {
            if !fin { throw .fragmentedControlFrame }
            if shortLength > 125 { throw .controlFrameTooLong }
        }

        var size = 2
        let declared: UInt64
        switch shortLength {
        case 126:
            guard available >= 4 else { return nil }
            declared = UInt64(buffer[readIndex + 2]) << 8 | UInt64(buffer[readIndex + 3])
            size = 4
        case 127:
            // The top bit is visible in the first length byte: reject before waiting for the rest.
            if available >= 3, buffer[readIndex + 2] & 0x80 != 0 { throw .lengthTopBitSet }
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for i in 2..<10 { value = value << 8 | UInt64(buffer[readIndex + i]) }
            declared = value
            size = 10
        default:
            declared = UInt64(shortLength)
        }
        // Compare as UInt64 so an absurd wire length is never converted to Int.
        if declared > UInt64(maxFrameSize) { throw .frameTooLarge }

        var maskKey: UInt32?
        if masked {
            guard available >= size + 4 else { return nil }
            var key: UInt32 = 0
            for i in size..<(size + 4) { key = key << 8 | UInt32(buffer[readIndex + i]) }
            maskKey = key
            size += 4
        }
        let header = WebSocketFrameHeader(
            fin: fin, rsv: rsv, opcode: opcode, maskKey: maskKey, payloadLength: Int(declared))
        return (header, size)
    }
}
