/// Where one whole, unmasked frame lies in a buffer: the server's own
/// frames as queued (or as a client receives them). For code that walks a
/// stream of frames in place without the full parser: the benchmark's
/// clients, and a connection folding its own queued backlog.
public struct FrameExtent: Sendable, Equatable {
    /// Low 4 bits of the first byte.
    public let opcode: UInt8
    public let headerSize: Int
    public let payloadLength: Int

    public var size: Int { headerSize + payloadLength }

    /// The frame starting at `offset`, or nil while the buffer does not yet
    /// hold all of it. Masked frames are not expected (server to client).
    @inline(__always)
    public static func of(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> FrameExtent? {
        guard let frame = header(bytes, at: offset), bytes.count - offset - frame.headerSize >= frame.payloadLength
        else { return nil }
        return frame
    }

    /// The frame whose header starts at `offset`, from its header alone (the
    /// payload need not be in `bytes`); nil while the header is incomplete.
    /// The one reading of an unmasked frame's length: `of` and a queue's
    /// frame cursor both use it.
    @inline(__always)
    public static func header(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> FrameExtent? {
        let available = bytes.count - offset
        guard available >= 2 else { return nil }
        var length = Int(bytes[offset + 1] & 0x7F)
        var headerSize = 2
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            headerSize = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            var wide: UInt64 = 0
            for i in 2..<10 { wide = wide << 8 | UInt64(bytes[offset + i]) }
            // Above this no buffer could hold the frame: report it incomplete.
            guard wide <= UInt64(Int.max - 10) else { return nil }
            length = Int(wide)
            headerSize = 10
        }
        return FrameExtent(opcode: bytes[offset] & 0x0F, headerSize: headerSize, payloadLength: length)
    }
}
