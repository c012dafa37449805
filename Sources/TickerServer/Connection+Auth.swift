import Auth
import HTTP
import MarketData
import PosixIO
import WebSocketProtocol

/// Auth on (`--auth-keys`): the token a request presents, what it allows,
/// and the answer when it allows nothing. Refusals of a token that came in
/// `Authorization` are HTTP statuses; a browser cannot set that header and
/// never sees a refused upgrade's status, so a stream upgrade whose token
/// came in `?token=` (or not at all) completes and closes at once with
/// 4401, 4403 or 4429 instead (docs/PROTOCOL.md, "Auth").
extension Connection {
    /// The granted token's allowance (nil with auth off, for the shared
    /// publish token, and for a refused stream upgrade).
    var grant: AccessGrant? {
        if case .granted(let grant) = access { grant } else { nil }
    }

    /// `Authorization: Bearer TOKEN` first, then `?token=TOKEN`.
    static func presentedToken(_ head: HTTPRequestHead) -> (token: String, viaHeader: Bool)? {
        if let token = head.header("Authorization").flatMap(bearerToken) { return (token, true) }
        if let token = QueryString.value("token", in: head.query), !token.isEmpty { return (token, false) }
        return nil
    }

    static var nowSeconds: Int64 { Int64(Clock.wallNanos() / 1_000_000_000) }

    /// The token's grant if it is valid, not revoked and has one of
    /// `roles`; `counted`: it also takes one of the subject's `max_conns`
    /// connections on this node (given back in `close()`).
    func checkToken(_ presented: (token: String, viaHeader: Bool)?, access: AccessControl,
                    roles: Set<TokenRole>, counted: Bool) -> Result<AccessGrant, AuthRefusal> {
        guard let presented else { return .failure(.missing) }
        let claims: TokenClaims
        do {
            claims = try access.verify(presented.token, nowSeconds: Self.nowSeconds)
        } catch {
            return .failure(.invalid(error))
        }
        if access.isRevoked(claims.subject) { return .failure(.revoked(claims.subject)) }
        guard roles.contains(claims.role) else {
            let wanted = roles.map(\.rawValue).sorted().joined(separator: " or ")
            return .failure(AuthRefusal(status: 403, closeCode: 4403, reason: "role",
                                        description: "role \(claims.role.rawValue) may not use this path (needs \(wanted))",
                                        subject: claims.subject))
        }
        if counted && !access.admit(subject: claims.subject, limit: claims.maxConnections) {
            return .failure(AuthRefusal(status: 429, closeCode: 4429, reason: "max_conns",
                                        description: "too many connections for this subject (max_conns \(claims.maxConnections ?? 0)); retry later",
                                        subject: claims.subject))
        }
        return .success(AccessGrant(claims, table: worker.shared.symbols))
    }

    /// A WebSocket upgrade on `route` with auth on: true to go on (with
    /// `grant` set, possibly to a refusal the stream answers with a close
    /// code); false when an HTTP refusal was sent instead.
    func admitUpgrade(_ head: HTTPRequestHead, route: Route) -> Bool {
        guard let access = worker.shared.access, route != .echo else { return true }
        // The shared `--publish-token` stays the simple option beside `publish` tokens.
        if route == .publish, let expected = worker.config.publishToken, publishTokenMatches(head, expected: expected) { return true }
        let presented = Self.presentedToken(head)
        let roles: Set<TokenRole> = route == .publish ? [.publish, .admin] : [.subscribe, .admin]
        switch checkToken(presented, access: access, roles: roles, counted: true) {
        case .success(let granted):
            self.access = .granted(granted)
            return true
        case .failure(let refusal):
            access.refused(refusal, client: clientText, path: head.path)
            if presented?.viaHeader == true || route == .publish {
                send(response: Self.authResponse(refusal))
                return false
            }
            self.access = .refused(refusal)
            return true
        }
    }

    /// `/metrics` on the main port with auth on needs an `admin` token.
    func metricsRefusal(_ head: HTTPRequestHead) -> HTTPResponse? {
        guard let access = worker.shared.access else { return nil }
        switch checkToken(Self.presentedToken(head), access: access, roles: [.admin], counted: false) {
        case .success:
            return nil
        case .failure(let refusal):
            access.refused(refusal, client: clientText, path: head.path)
            return Self.authResponse(refusal)
        }
    }

    /// 401 with `WWW-Authenticate` (RFC 6750 §3), 403, or 429.
    static func authResponse(_ refusal: AuthRefusal) -> HTTPResponse {
        var headers: [(String, String)] = []
        switch refusal.status {
        case 401:
            headers.append(("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\"\(refusal.description)\""))
        case 403:
            headers.append(("WWW-Authenticate", "Bearer error=\"insufficient_scope\", error_description=\"\(refusal.description)\""))
        case 429:
            headers.append(("Retry-After", "5"))
        default:
            break
        }
        return textResponse(status: refusal.status, text: refusal.description, extraHeaders: headers)
    }

    /// Right after the 101 of a refused stream upgrade: the close a browser sees.
    func closeRefusedStream(_ refusal: AuthRefusal) {
        startClose(WebSocketCloseCode(rawValue: refusal.closeCode), reason: refusal.description)
    }

    /// The sweep, for a connection with a grant: revocation (within a sweep
    /// of SIGHUP), `token_expiring` 30 s ahead, and 4401 at `exp`. False:
    /// the connection is closing.
    func checkGrant() -> Bool {
        guard let grant, let access = worker.shared.access else { return true }
        let version = access.revocationVersion.load(ordering: .acquiring)
        if version != grant.revocationChecked {
            grant.revocationChecked = version
            if access.isRevoked(grant.subject) {
                access.refused(.revoked(grant.subject), client: clientText, path: "-")
                closeNext(.unauthorized, reason: "the token's subject was revoked")
                return false
            }
        }
        let now = Clock.wallNanos()
        if now >= grant.expiresAtNs {
            closeNext(.unauthorized, reason: "token expired; reconnect with a new token")
            return false
        }
        if !grant.warned && now &+ Self.expiryWarningNanos >= grant.expiresAtNs, case .webSocket(.stream, _) = phase {
            grant.warned = true
            let inMs = Int((grant.expiresAtNs - now) / 1_000_000)
            send(.text, Array(ControlReply.tokenExpiring(inMs: inMs).encoded().utf8))
            flush()
        }
        return true
    }

    static let expiryWarningNanos: UInt64 = 30_000_000_000
}
