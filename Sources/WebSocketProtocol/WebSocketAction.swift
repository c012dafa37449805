/// What the caller must do after feeding the connection. The state machine never performs
/// I/O, so every effect, including timers, is an instruction executed in order.
public enum WebSocketAction: Equatable, Sendable {
    /// A complete, validated data message.
    case deliver(WebSocketMessage)
    /// Bytes to write to the peer (pong, close frame).
    case send([UInt8])
    /// A pong arrived, for heartbeat bookkeeping. Unsolicited pongs are reported too.
    case pongReceived([UInt8])
    /// We sent a close frame: close the transport if the handshake has not finished by the timeout.
    case startCloseTimer
    /// Close the TCP connection now (after flushing earlier `.send`s). The code is the one
    /// of the close handshake, or nil when there was none.
    case closeTransport(WebSocketCloseCode?)
}
