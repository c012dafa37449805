import MarketData

/// Verifies compact JWS tokens (RFC 7515 §7.1, RFC 7519) signed with HS256 by one of our keys,
/// following RFC 8725: the algorithm is pinned (the header cannot choose `none` or another
/// MAC), the key is chosen by `kid` among ours only, and nothing in the payload is read before
/// the signature is known to be good.
///
/// Order of checks, each refusing with its own `TokenError`:
/// 1. size (`maxTokenBytes`), before any decoding;
/// 2. three parts, each canonical base64url;
/// 3. header: a JSON object, no repeated names, `alg` exactly `HS256`, `typ` (if present) `JWT`
///    in any case, no `crit` (we implement no extension), `kid` naming a key;
/// 4. signature: HMAC-SHA256 of the first two parts, compared in constant time;
/// 5. payload: a JSON object, no repeated names, the claims `TokenClaims` describes;
/// 6. times: `exp` and `nbf`, each with `leewaySeconds` of allowance for clock skew.
public struct TokenVerifier: Sendable {
    /// A token arrives in a header or a query string; 4 KiB is ample for a few hundred
    /// symbols and caps the work an unauthenticated client can ask for.
    public static let maxTokenBytes = 4096
    /// Nesting allowed in the header and payload JSON: ours is 2 deep; other issuers' extra
    /// claims may nest a little.
    public static let maxJSONDepth = 8
    /// Longest `sub` accepted: it is written into logs and metrics.
    public static let maxSubjectBytes = 256

    public let keys: AuthKeys
    public let leewaySeconds: Int64
    /// The audience this server answers to. When nil, a token carrying `aud` is refused
    /// (RFC 7519 §4.1.3: a recipient that does not find itself in `aud` MUST reject it);
    /// when set, `aud` is required and must name it.
    public var audience: String?

    public init(keys: AuthKeys, leewaySeconds: Int64 = 0) {
        precondition(leewaySeconds >= 0, "leeway is an allowance, not a shift")
        self.keys = keys
        self.leewaySeconds = leewaySeconds
    }

    public func verify<S: StringProtocol>(_ token: S, nowSeconds: Int64) throws(TokenError) -> TokenClaims {
        let size = token.utf8.count
        guard size <= Self.maxTokenBytes else { throw .tooLarge(size) }
        let bytes = Array(token.utf8)
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw .malformed("expected three dot-separated parts") }
        let headerPart = bytes[..<dots[0]]
        let payloadPart = bytes[(dots[0] + 1)..<dots[1]]
        let signaturePart = bytes[(dots[1] + 1)...]

        let key = try checkHeader(headerPart)
        guard let signature = Base64URL.decode(signaturePart) else {
            throw .malformed("signature is not base64url")
        }
        let expected = HMACSHA256.authenticate(bytes[..<dots[1]], key: key)
        guard constantTimeEquals(expected, signature) else { throw .badSignature }

        guard let payload = Base64URL.decode(payloadPart) else { throw .malformed("payload is not base64url") }
        let claims = try TokenClaims.decode(payload: Self.object(payload, part: "payload"), audience: audience)
        try checkTimes(claims, now: nowSeconds)
        return claims
    }

    /// The secret the header's `kid` names, once the header is acceptable.
    private func checkHeader(_ part: ArraySlice<UInt8>) throws(TokenError) -> [UInt8] {
        guard let json = Base64URL.decode(part) else { throw .malformed("header is not base64url") }
        let header = try Self.object(json, part: "header")
        guard let alg = header["alg"] else { throw .malformed("header has no alg") }
        guard let name = alg.string else { throw .malformed("header alg is not a string") }
        guard name == "HS256" else { throw .unsupportedAlgorithm(TokenError.excerpt(name, limit: 32)) }
        if let typ = header["typ"] {
            guard let value = typ.string, value.utf8.count == 3, value.uppercased() == "JWT" else {
                throw .malformed("header typ is not JWT")
            }
        }
        // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must
        // refuse the token; we understand none (this also refuses RFC 7797 unencoded payloads).
        guard header["crit"] == nil else { throw .malformed("header crit is not supported") }
        guard let kidValue = header["kid"] else { throw .unknownKey("") }
        guard let kid = kidValue.string else { throw .malformed("header kid is not a string") }
        guard let secret = keys.secret(for: kid) else { throw .unknownKey(TokenError.excerpt(kid, limit: 32)) }
        return secret
    }

    private func checkTimes(_ claims: TokenClaims, now: Int64) throws(TokenError) {
        // Saturating, so an `exp` near Int64.max cannot wrap into the past.
        let (expiry, overflow) = claims.expiresAt.addingReportingOverflow(leewaySeconds)
        if !overflow && now >= expiry { throw .expired }
        if let notBefore = claims.notBefore {
            let (start, underflow) = notBefore.subtractingReportingOverflow(leewaySeconds)
            if !underflow && now < start { throw .notYetValid }
        }
    }

    /// The part's JSON, which must be one object with no repeated member names.
    static func object(_ json: [UInt8], part: String) throws(TokenError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue.parse(json, maxDepth: maxJSONDepth)
        } catch {
            switch error {
            case .duplicateName: throw .malformed("\(part) repeats a member name")
            case .tooDeep: throw .malformed("\(part) nests deeper than \(maxJSONDepth)")
            case .syntax: throw .malformed("\(part) is not JSON")
            }
        }
        guard let object = value.object else { throw .malformed("\(part) is not a JSON object") }
        return object
    }
}
