/// A close status code (RFC 6455 §7.4). A struct rather than an enum because peers may
/// legitimately send any registered or private code (3000-4999) and we must echo it back.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let normal = WebSocketCloseCode(rawValue: 1000)
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)
    /// Never sent on the wire: reported when a close frame had an empty body.
    public static let noStatusReceived = WebSocketCloseCode(rawValue: 1005)
    /// Never sent on the wire: reported when the transport died without a close handshake.
    public static let abnormalClosure = WebSocketCloseCode(rawValue: 1006)
    public static let invalidPayload = WebSocketCloseCode(rawValue: 1007)
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)
    public static let mandatoryExtension = WebSocketCloseCode(rawValue: 1010)
    public static let internalError = WebSocketCloseCode(rawValue: 1011)
    /// Application-defined: we closed the client because it could not keep up with the feed.
    public static let slowConsumer = WebSocketCloseCode(rawValue: 4001)
    /// Application-defined: the client stopped answering pings.
    public static let heartbeatTimeout = WebSocketCloseCode(rawValue: 4002)
    /// Auth: the token is missing, invalid, expired or revoked; do not
    /// reconnect without a new token.
    public static let unauthorized = WebSocketCloseCode(rawValue: 4401)
    /// Auth: the token's role does not allow this endpoint.
    public static let forbidden = WebSocketCloseCode(rawValue: 4403)
    /// Auth: too many connections for the token's subject (`max_conns`); retry later.
    public static let tooManyConnections = WebSocketCloseCode(rawValue: 4429)

    /// Whether a peer may put this code in a close frame. 1004-1006 and 1015 are reserved
    /// for local reporting, 1016-2999 are unassigned IANA space, and 1012-1014 are the
    /// later IANA registrations (service restart, try again later, bad gateway) that
    /// Autobahn 7.7 accepts.
    public static func isValidOnWire(_ raw: UInt16) -> Bool {
        switch raw {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    public var description: String {
        switch rawValue {
        case 1000: return "1000 normal"
        case 1001: return "1001 going away"
        case 1002: return "1002 protocol error"
        case 1003: return "1003 unsupported data"
        case 1005: return "1005 no status received"
        case 1006: return "1006 abnormal closure"
        case 1007: return "1007 invalid payload"
        case 1008: return "1008 policy violation"
        case 1009: return "1009 message too big"
        case 1010: return "1010 mandatory extension"
        case 1011: return "1011 internal error"
        case 4001: return "4001 slow consumer"
        case 4002: return "4002 heartbeat timeout"
        case 4401: return "4401 unauthorized"
        case 4403: return "4403 forbidden"
        case 4429: return "4429 too many connections"
        default: return String(rawValue)
        }
    }
}
