import FanoutHub
import WebSocketProtocol

extension TickFraming {
    /// Tick messages as unmasked WebSocket binary frames (server to client),
    /// written and read back by `WebSocketProtocol`'s own encoder and
    /// `FrameExtent`: the hub's message writer gets the frame layout from here.
    public static let webSocket = TickFraming(
        maxHeaderSize: WebSocketFrameEncoder.headerSize(payloadLength: Int.max, masked: false),
        headerSize: { WebSocketFrameEncoder.headerSize(payloadLength: $0, masked: false) },
        writeHeader: { WebSocketFrameEncoder.writeHeader(to: $0, opcode: .binary, payloadLength: $1) },
        frame: { bytes, offset in
            FrameExtent.of(bytes, at: offset).map {
                Frame(carriesTicks: $0.opcode == WebSocketOpcode.binary.rawValue,
                      headerSize: $0.headerSize, payloadLength: $0.payloadLength)
            }
        })
}
