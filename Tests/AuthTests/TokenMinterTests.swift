import Auth
import Testing

/// What TokenMinter writes: the fixed header, the claims (nil ones left out), and a token the
/// verifier gives back unchanged. (Byte-exact against an independent encoding and PyJWT's
/// decoding: PyJWTFixtureTests.minterMatchesTheIndependentEncoding.)
@Suite struct TokenMinterTests {
    private func json(_ part: Substring) -> String {
        String(decoding: Base64URL.decode(part) ?? [], as: UTF8.self)
    }

    @Test func headerAndPayloadText() {
        let token = TokenMinter.mint(
            TokenClaims(subject: "d\"q", expiresAt: 5, symbols: ["A", "B\\"], role: .publish), kid: "k-1", secret: TestKey.secret)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(json(parts[0]) == #"{"alg":"HS256","typ":"JWT","kid":"k-1"}"#)
        #expect(json(parts[1]) == #"{"sub":"d\"q","exp":5,"symbols":["A","B\\"],"role":"publish"}"#)
        #expect(Base64URL.decode(parts[2])?.count == 32)
    }

    @Test(arguments: [
        TokenClaims(subject: "a", expiresAt: 1_900_000_000, symbols: []),
        TokenClaims(subject: "zo\u{EB}\u{1F600}", expiresAt: 1_900_000_000, notBefore: -5, issuedAt: 0,
                    symbols: ["*", "ES=F", "\u{6771}"], maxConnections: Int.max, role: .admin),
        TokenClaims(subject: "tab\there", expiresAt: Int64.max, symbols: ["A"], maxConnections: 1, role: .publish),
    ])
    func roundTrips(_ claims: TokenClaims) throws {
        let token = TokenMinter.mint(claims, kid: TestKey.kid, secret: TestKey.secret)
        if claims.subject.contains("\t") {
            // The minter writes what it is given; the verifier refuses control characters in sub.
            #expect(throws: TokenError.invalidClaims("sub holds a control character")) {
                try TokenVerifier(keys: TestKey.keys).verify(token, nowSeconds: 0)
            }
        } else {
            #expect(try TokenVerifier(keys: TestKey.keys).verify(token, nowSeconds: 0) == claims)
        }
    }
}
