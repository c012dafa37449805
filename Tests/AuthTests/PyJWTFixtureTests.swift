import Auth
import Testing

/// Tokens minted by PyJWT (Fixtures/jwt, from Scripts/gen_jwt_fixtures.py): an independent
/// implementation's output is accepted, claim for claim, and its refusals are ours too.
@Suite struct PyJWTFixtureTests {
    private func verify(_ name: String, now: Int64 = AuthFixtures.now) throws -> TokenClaims {
        let verifier = TokenVerifier(keys: try AuthFixtures.keys())
        return try verifier.verify(try AuthFixtures.text(name + ".txt"), nowSeconds: now)
    }

    private func refusal(_ name: String) throws -> TokenError? {
        let verifier = TokenVerifier(keys: try AuthFixtures.keys())
        let token = try AuthFixtures.text(name + ".txt")
        return tokenError { () throws(TokenError) in try verifier.verify(token, nowSeconds: AuthFixtures.now) }
    }

    @Test func basic() throws {
        #expect(try verify("pyjwt_basic") == TokenClaims(
            subject: "alice", expiresAt: AuthFixtures.farFuture, issuedAt: AuthFixtures.issuedAt,
            symbols: ["AAPL", "MSFT"]))
    }

    @Test func everyClaimWithTheSecondKeyAndForeignClaimsIgnored() throws {
        #expect(try verify("pyjwt_all_claims") == TokenClaims(
            subject: "feed-gateway-7", expiresAt: AuthFixtures.farFuture, notBefore: AuthFixtures.issuedAt,
            issuedAt: AuthFixtures.issuedAt, symbols: ["BRK.B", "ES=F"], maxConnections: 3, role: .publish))
    }

    @Test func wildcardAdmin() throws {
        let claims = try verify("pyjwt_wildcard_admin")
        #expect(claims.allowsEverySymbol)
        #expect(claims.role == .admin)
        #expect(claims.symbols == ["*"])
    }

    /// PyJWT escapes non-ASCII as \uXXXX; its `typ` here is lowercase `jwt`.
    @Test func escapedUnicodeSubject() throws {
        let claims = try verify("pyjwt_unicode_sub")
        #expect(claims.subject == "zo\u{EB} \u{6771}\u{4EAC}")
        #expect(claims.symbols == ["7203.T"])
        #expect(!claims.allowsEverySymbol)
    }

    @Test func refusals() throws {
        #expect(try refusal("pyjwt_expired") == .expired)
        #expect(try refusal("pyjwt_not_yet_valid") == .notYetValid)
        #expect(try refusal("pyjwt_hs512") == .unsupportedAlgorithm("HS512"))
        #expect(try refusal("pyjwt_alg_none") == .unsupportedAlgorithm("none"))
        #expect(try refusal("pyjwt_unknown_kid") == .unknownKey("k9"))
        #expect(try refusal("pyjwt_no_kid") == .unknownKey(""))
    }

    /// The edges of validity: exp is the first second refused, nbf the first accepted.
    @Test func timeEdges() throws {
        #expect(try verify("pyjwt_expired", now: AuthFixtures.farPast - 1).expiresAt == AuthFixtures.farPast)
        #expect(throws: TokenError.expired) { try verify("pyjwt_expired", now: AuthFixtures.farPast) }
        let notBefore = AuthFixtures.farFuture - 86_400
        #expect(throws: TokenError.notYetValid) { try verify("pyjwt_not_yet_valid", now: notBefore - 1) }
        #expect(try verify("pyjwt_not_yet_valid", now: notBefore).notBefore == notBefore)
    }

    /// What TokenMinter writes is byte for byte what the generator computed independently
    /// (json/hmac/base64), and PyJWT decodes that file (`gen_jwt_fixtures.py --check`).
    @Test func minterMatchesTheIndependentEncoding() throws {
        let keys = try AuthFixtures.keys()
        let claims = TokenClaims(
            subject: "bob", expiresAt: AuthFixtures.farFuture, notBefore: AuthFixtures.issuedAt,
            issuedAt: AuthFixtures.issuedAt, symbols: ["AAPL", "MSFT"], maxConnections: 2, role: .subscribe)
        let minted = TokenMinter.mint(claims, kid: "k2", secret: try #require(keys.secret(for: "k2")))
        #expect(minted == (try AuthFixtures.text("minted_basic.txt")))
        #expect(try TokenVerifier(keys: keys).verify(minted, nowSeconds: AuthFixtures.now) == claims)
    }
}
