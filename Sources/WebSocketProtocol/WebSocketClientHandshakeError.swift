/// Why a client refuses the server's answer to its upgrade request (RFC 6455 §4.1):
/// each case is a rule the client MUST enforce before treating the stream as WebSocket.
public enum WebSocketClientHandshakeError: Error, Equatable, Sendable {
    case unexpectedStatus(Int)
    case missingUpgradeToken
    case missingConnectionToken
    case badAccept
}
