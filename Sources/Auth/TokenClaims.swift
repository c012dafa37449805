/// The claims the server acts on, read from a verified token's payload (RFC 7519 §4 for
/// `sub`, `exp`, `nbf`, `iat`; the rest are ours). Other claims in a payload are ignored.
public struct TokenClaims: Sendable, Equatable {
    /// `sub`: who the token was issued to; required, non-empty. Used in logs and metrics, so
    /// the verifier bounds it (see `TokenVerifier`).
    public var subject: String
    /// `exp`, seconds since the epoch; required. The token is refused from this second on.
    public var expiresAt: Int64
    /// `nbf`: the token is refused before this second.
    public var notBefore: Int64?
    /// `iat`: when it was issued; informational.
    public var issuedAt: Int64?
    /// `symbols`: the entitlement; `["*"]` means every symbol.
    public var symbols: [String]
    /// `max_conns`: how many connections this subject may hold at once; at least 1.
    public var maxConnections: Int?
    /// `role`: `subscribe` unless the token says otherwise.
    public var role: TokenRole

    /// Whether `symbols` grants every symbol (it holds the wildcard `*`).
    public var allowsEverySymbol: Bool { symbols.contains(Self.wildcard) }

    /// The `symbols` entry that stands for every symbol.
    public static let wildcard = "*"

    public init(
        subject: String, expiresAt: Int64, notBefore: Int64? = nil, issuedAt: Int64? = nil,
        symbols: [String], maxConnections: Int? = nil, role: TokenRole = .subscribe
    ) {
        self.subject = subject
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        self.symbols = symbols
        self.maxConnections = maxConnections
        self.role = role
    }
}
