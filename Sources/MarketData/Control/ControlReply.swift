/// Server → client text-frame messages, discriminated by `type` on the wire.
public enum ControlReply: Equatable, Sendable {
    case welcome(WelcomeInfo)
    /// `resume` answers a `subscribe` that carried `from` (nil otherwise, and
    /// then the reply is byte-for-byte what it was before `from` existed).
    case subscribed(id: Int?, symbols: [SymbolRef], resume: ResumeReport? = nil)
    /// `reason` is nil for an `unsubscribe` request's answer, and
    /// `"entitlement"` when a refreshed token no longer allows the symbols.
    case unsubscribed(id: Int?, symbols: [SymbolRef], reason: String? = nil)
    /// Answer to `list`: everything the connection is subscribed to, and
    /// (key `intervals`, only when any) the throttled ones' intervals in ms.
    case subscriptions(id: Int?, symbols: [SymbolRef], intervals: [String: Int] = [:])
    /// `timeNs` is the server clock, letting a client estimate offset and RTT.
    case pong(id: Int?, timeNs: UInt64)
    case error(ControlError)
    /// Auth on: the token ends in `inMs` ms; send `auth` with a fresh one.
    case tokenExpiring(inMs: Int)
    /// Auth on: an `auth` request's token was accepted; it ends at `exp`
    /// (seconds since the epoch).
    case authenticated(id: Int?, expiresAt: Int64)

    public var type: String {
        switch self {
        case .welcome: "welcome"
        case .subscribed: "subscribed"
        case .unsubscribed: "unsubscribed"
        case .subscriptions: "subscriptions"
        case .pong: "pong"
        case .error: "error"
        case .tokenExpiring: "token_expiring"
        case .authenticated: "authenticated"
        }
    }
}
