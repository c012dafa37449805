/// Frame opcodes defined by RFC 6455 §5.2. The reserved values (3-7, 11-15) have no
/// case on purpose: a frame carrying one cannot be represented, so the parser has to
/// reject it before a `WebSocketFrame` ever exists.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0
    case text = 1
    case binary = 2
    case close = 8
    case ping = 9
    case pong = 10

    /// Control frames (opcode high bit set) may be interleaved with a fragmented
    /// message and have stricter rules: at most 125 payload bytes and never fragmented.
    public var isControl: Bool { rawValue & 0x08 != 0 }
}
