/// The envelope a connection's transport puts around each tick message:
/// for the server, a WebSocket binary frame (`TickFraming.webSocket` in
/// TickerServer, built on `WebSocketProtocol`'s encoder). Injected, so the
/// hub and its message writer lay out tick messages without depending on
/// the WebSocket layer. Called once per message, never per record.
public struct TickFraming: Sendable {
    /// One whole frame found in queued bytes.
    public struct Frame: Equatable, Sendable {
        /// It carries a tick message (a binary frame), not a control reply or a ping.
        public var carriesTicks: Bool
        public var headerSize: Int
        public var payloadLength: Int

        public init(carriesTicks: Bool, headerSize: Int, payloadLength: Int) {
            self.carriesTicks = carriesTicks
            self.headerSize = headerSize
            self.payloadLength = payloadLength
        }

        public var size: Int { headerSize + payloadLength }
    }

    /// The longest header `writeHeader` ever writes (room reserved ahead of a message being built).
    public let maxHeaderSize: Int
    /// The header's size for a payload of this length.
    public let headerSize: @Sendable (_ payloadLength: Int) -> Int
    /// Writes the header of a tick message of `payloadLength` bytes.
    public let writeHeader: @Sendable (_ to: UnsafeMutableRawPointer, _ payloadLength: Int) -> Void
    /// The whole frame starting at `offset` in the connection's own queued bytes; nil when incomplete.
    public let frame: @Sendable (_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Frame?

    public init(
        maxHeaderSize: Int,
        headerSize: @escaping @Sendable (Int) -> Int,
        writeHeader: @escaping @Sendable (UnsafeMutableRawPointer, Int) -> Void,
        frame: @escaping @Sendable (UnsafeRawBufferPointer, Int) -> Frame?
    ) {
        self.maxHeaderSize = maxHeaderSize
        self.headerSize = headerSize
        self.writeHeader = writeHeader
        self.frame = frame
    }
}
