/// Frame encoding. Servers send unmasked frames; clients must mask (RFC 6455 §5.3), so
/// the key is a parameter rather than chosen here: the connection owns the randomness
/// and tests can use the RFC's fixed key.
public enum WebSocketFrameEncoder {
    public static func headerSize(payloadLength: Int, masked: Bool) -> Int {
        let base: Int
        if payloadLength <= 125 {
            base = 2
        } else if payloadLength <= 0xFFFF {
            base = 4
        } else {
            base = 10
        }
        return masked ? base + 4 : base
    }

    /// Appends a header, using the shortest length encoding as §5.2 requires. This is
    /// the broadcast hot path (encode once, then write the same bytes to many sockets),
    /// so it appends bytes one by one into existing capacity instead of building arrays.
    public static func writeHeader(
        into buffer: inout [UInt8], opcode: WebSocketOpcode, fin: Bool = true,
        payloadLength: Int, maskKey: UInt32? = nil
    ) {
        precondition(payloadLength >= 0, "negative payload length")
        buffer.append((fin ? 0x80 : 0x00) | opcode.rawValue)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        if payloadLength <= 125 {
            buffer.append(maskBit | UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            buffer.append(maskBit | 126)
            buffer.append(UInt8(truncatingIfNeeded: payloadLength >> 8))
            buffer.append(UInt8(truncatingIfNeeded: payloadLength))
        } else {
            buffer.append(maskBit | 127)
            let length = UInt64(payloadLength)
            for shift in stride(from: 56, through: 0, by: -8) {
                buffer.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        }
        if let key = maskKey {
            buffer.append(UInt8(truncatingIfNeeded: key >> 24))
            buffer.append(UInt8(truncatingIfNeeded: key >> 16))
            buffer.append(UInt8(truncatingIfNeeded: key >> 8))
            buffer.append(UInt8(truncatingIfNeeded: key))
        }
    }

    /// Writes an unmasked server header at `pointer`, which must have room for
    /// `headerSize(payloadLength:masked: false)` bytes. Used where frames are
    /// assembled in place (batched tick messages), with no intermediate array.
    /// Returns the number of bytes written.
    @discardableResult
    public static func writeHeader(
        to pointer: UnsafeMutableRawPointer, opcode: WebSocketOpcode, fin: Bool = true, payloadLength: Int
    ) -> Int {
        precondition(payloadLength >= 0, "negative payload length")
        pointer.storeBytes(of: (fin ? 0x80 : 0x00) | opcode.rawValue, as: UInt8.self)
        if payloadLength <= 125 {
            (pointer + 1).storeBytes(of: UInt8(payloadLength), as: UInt8.self)
            return 2
        } else if payloadLength <= 0xFFFF {
            (pointer + 1).storeBytes(of: 126, as: UInt8.self)
            (pointer + 2).storeBytes(of: UInt16(payloadLength).bigEndian, toByteOffset: 0, as: UInt16.self)
            return 4
        }
        (pointer + 1).storeBytes(of: 127, as: UInt8.self)
        (pointer + 2).storeBytes(of: UInt64(payloadLength).bigEndian, toByteOffset: 0, as: UInt64.self)
        return 10
    }

    public static func encode(
        opcode: WebSocketOpcode, payload: some Collection<UInt8>, fin: Bool = true, maskKey: UInt32? = nil
    ) -> [UInt8] {
        let length = payload.count
        var frame: [UInt8] = []
        frame.reserveCapacity(headerSize(payloadLength: length, masked: maskKey != nil) + length)
        writeHeader(into: &frame, opcode: opcode, fin: fin, payloadLength: length, maskKey: maskKey)
        let payloadStart = frame.count
        frame.append(contentsOf: payload)
        if let key = maskKey {
            frame.withUnsafeMutableBytes { raw in
                WebSocketMasking.apply(key: key, offset: 0, to: UnsafeMutableRawBufferPointer(rebasing: raw[payloadStart...]))
            }
        }
        return frame
    }

    /// A close frame. `code == nil` gives an empty body (the reason is then ignored, since
    /// §5.5.1 allows a reason only after a code). The reason is truncated at a character
    /// boundary so the body fits the 125-byte control-frame limit and stays valid UTF-8.
    public static func encodeClose(code: WebSocketCloseCode?, reason: String, maskKey: UInt32? = nil) -> [UInt8] {
        var body: [UInt8] = []
        if let code {
            body.append(UInt8(truncatingIfNeeded: code.rawValue >> 8))
            body.append(UInt8(truncatingIfNeeded: code.rawValue))
            var remaining = 123
            for scalar in reason.unicodeScalars {
                let bytes = UTF8.encode(scalar).map(Array.init) ?? []
                if bytes.count > remaining { break }
                body.append(contentsOf: bytes)
                remaining -= bytes.count
            }
        }
        return encode(opcode: .close, payload: body, maskKey: maskKey)
    }

    /// Whether `frame` (one whole encoded frame) is a close frame.
    public static func isClose(_ frame: [UInt8]) -> Bool {
        frame.first.map { $0 & 0x0F == WebSocketOpcode.close.rawValue } ?? false
    }
}
