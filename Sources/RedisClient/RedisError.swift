import RESP

/// Why a command or the link failed. A `reply` error is Redis answering `-ERR …`; the
/// link stays up. Every other case means the command's fate is unknown (it may or may
/// not have run) and the link was dropped or never up.
public enum RedisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Redis answered with an error reply (`-ERR …`, `-WRONGPASS …`).
    case reply(String)
    /// Sent while the link was not ready; nothing was written.
    case notConnected
    /// The link dropped with the command unanswered.
    case connectionLost(String)
    /// No connection within the connect timeout, or no reply within the reply timeout.
    case timeout
    /// Redis sent bytes that are not RESP (or exceed our limits).
    case protocolError(RESPError)
    /// AUTH / HELLO / SELECT was refused.
    case handshake(String)
    /// More unsent bytes than `maxOutboundBytes`: the command was refused, not queued.
    case overloaded
    /// `close()` was called.
    case closed

    public var description: String {
        switch self {
        case .reply(let text): "Redis replied: \(text)"
        case .notConnected: "not connected to Redis"
        case .connectionLost(let why): "Redis link lost: \(why)"
        case .timeout: "Redis timed out"
        case .protocolError(let error): "Redis protocol error: \(error)"
        case .handshake(let text): "Redis refused the handshake: \(text)"
        case .overloaded: "Redis link overloaded (outbound buffer full)"
        case .closed: "Redis link closed"
        }
    }
}
