/// Server → client text-frame messages, discriminated by `type` on the wire.
public enum ControlReply: Equatable, Sendable {
    case welcome(WelcomeInfo)
    /// `resume` answers a `subscribe` that carried `from` (nil otherwise, and
    /// then the reply is byte-for-byte what it was before `from` existed).
    case subscribed(id: Int?, symbols: [SymbolRef], resume: ResumeReport? = nil)
    case unsubscribed(id: Int?, symbols: [SymbolRef])
    /// Answer to `list`: everything the connection is subscribed to.
    case subscriptions(id: Int?, symbols: [SymbolRef])
    /// `timeNs` is the server clock, letting a client estimate offset and RTT.
    case pong(id: Int?, timeNs: UInt64)
    case error(ControlError)

    public var type: String {
        switch self {
        case .welcome: "welcome"
        case .subscribed: "subscribed"
        case .unsubscribed: "unsubscribed"
        case .subscriptions: "subscriptions"
        case .pong: "pong"
        case .error: "error"
        }
    }
}
