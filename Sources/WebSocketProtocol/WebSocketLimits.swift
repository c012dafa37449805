/// Size limits for incoming data. They bound the memory one connection can make us
/// hold, so they are enforced before anything is allocated for a frame.
public struct WebSocketLimits: Sendable {
    /// Payload bytes of one frame. 1 MiB: our clients send small control messages, and
    /// one frame is the unit the parser has to buffer whole.
    public var maxFrameSize: Int
    /// Bytes of one reassembled message, for the same reason as `maxFrameSize`.
    public var maxMessageSize: Int
    /// Frames per message. 1024 lets any sane sender fragment a maximal message, but stops
    /// a peer from pinning CPU with millions of 1-byte (or empty) continuation frames,
    /// which the byte limit alone would never catch.
    public var maxFragments: Int

    public init(maxFrameSize: Int = 1 << 20, maxMessageSize: Int = 1 << 20, maxFragments: Int = 1024) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxFragments = maxFragments
    }

    /// For an echo endpoint run against Autobahn: cases 9.1.6 and 9.2.6 send 16 MiB messages
    /// in one frame, and 9.3/9.4 fragment a 4 MiB message into up to 4 Mi 1-byte frames
    /// (hence no practical fragment cap).
    public static let echoConformance = WebSocketLimits(
        maxFrameSize: 16 << 20, maxMessageSize: 16 << 20, maxFragments: 16 << 20)
}
