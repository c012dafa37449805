import Auth
import Testing

/// The payload's claims, read from correctly signed tokens: what is required, the types
/// accepted, and `invalidClaims` with its reason for everything else.
@Suite struct TokenClaimsTests {
    static let now: Int64 = 1_800_000_000

    private func verify(_ payload: String, audience: String? = nil) throws(TokenError) -> TokenClaims {
        var verifier = TokenVerifier(keys: TestKey.keys)
        verifier.audience = audience
        return try verifier.verify(TestKey.token(payload: payload), nowSeconds: Self.now)
    }

    private func error(_ payload: String, audience: String? = nil) -> TokenError? {
        tokenError { () throws(TokenError) in try verify(payload, audience: audience) }
    }

    @Test func minimalPayloadDefaults() throws {
        let claims = try verify(#"{"sub":"a","exp":1900000000,"symbols":["X"]}"#)
        #expect(claims == TokenClaims(subject: "a", expiresAt: 1_900_000_000, symbols: ["X"]))
        #expect(claims.role == .subscribe)
        #expect(claims.maxConnections == nil && claims.notBefore == nil && claims.issuedAt == nil)
    }

    @Test func everyClaim() throws {
        let claims = try verify(
            #"{"sub":"gw","exp":1900000000,"nbf":1700000000,"iat":1700000001,"symbols":["A","*"],"max_conns":12,"role":"admin"}"#)
        #expect(claims == TokenClaims(
            subject: "gw", expiresAt: 1_900_000_000, notBefore: 1_700_000_000, issuedAt: 1_700_000_001,
            symbols: ["A", "*"], maxConnections: 12, role: .admin))
        #expect(claims.allowsEverySymbol)
    }

    /// NumericDate is a JSON number: an integral one in any spelling is accepted.
    @Test func integralNumbersInAnySpelling() throws {
        #expect(try verify(#"{"sub":"a","exp":1.9e9,"symbols":[]}"#).expiresAt == 1_900_000_000)
        #expect(try verify(#"{"sub":"a","exp":1900000000.0,"symbols":[]}"#).expiresAt == 1_900_000_000)
        #expect(try verify(#"{"sub":"a","exp":1900000000,"max_conns":2.0,"symbols":[]}"#).maxConnections == 2)
    }

    @Test func otherClaimsAreIgnored() throws {
        let claims = try verify(#"{"jti":"x","sub":"a","scope":{"d":[1,{"e":null}]},"exp":1900000000,"symbols":["B"],"iss":"me"}"#)
        #expect(claims.symbols == ["B"])
    }

    @Test func escapedNamesAreTheSameClaims() throws {
        // "\u0073ub" is "sub": names compare after unescaping, so a repeat is still caught.
        #expect(try verify(#"{"\u0073ub":"a","exp":1900000000,"symbols":[]}"#).subject == "a")
        #expect(error(#"{"sub":"a","\u0073ub":"b","exp":1900000000,"symbols":[]}"#) == .malformed("payload repeats a member name"))
    }

    @Test(arguments: [
        (#"{"exp":1900000000,"symbols":[]}"#, "missing sub"),
        (#"{"sub":"a","symbols":[]}"#, "missing exp"),
        (#"{"sub":"a","exp":1900000000}"#, "missing symbols"),
        (#"{"sub":7,"exp":1900000000,"symbols":[]}"#, "sub is not a string"),
        (#"{"sub":null,"exp":1900000000,"symbols":[]}"#, "sub is not a string"),
        (#"{"sub":"","exp":1900000000,"symbols":[]}"#, "sub is empty"),
        (#"{"sub":"a\nb","exp":1900000000,"symbols":[]}"#, "sub holds a control character"),
        (#"{"sub":"a","exp":"1900000000","symbols":[]}"#, "exp is not an integer number of seconds"),
        (#"{"sub":"a","exp":1900000000.5,"symbols":[]}"#, "exp is not an integer number of seconds"),
        (#"{"sub":"a","exp":1e400,"symbols":[]}"#, "exp is not an integer number of seconds"),
        (#"{"sub":"a","exp":99999999999999999999,"symbols":[]}"#, "exp is not an integer number of seconds"),
        (#"{"sub":"a","exp":true,"symbols":[]}"#, "exp is not an integer number of seconds"),
        (#"{"sub":"a","exp":1900000000,"nbf":"soon","symbols":[]}"#, "nbf is not an integer number of seconds"),
        (#"{"sub":"a","exp":1900000000,"iat":null,"symbols":[]}"#, "iat is not an integer number of seconds"),
        (#"{"sub":"a","exp":1900000000,"symbols":"AAPL"}"#, "symbols is not an array"),
        (#"{"sub":"a","exp":1900000000,"symbols":{"AAPL":1}}"#, "symbols is not an array"),
        (#"{"sub":"a","exp":1900000000,"symbols":["AAPL",1]}"#, "symbols holds a non-string"),
        (#"{"sub":"a","exp":1900000000,"symbols":[""]}"#, "symbols holds an empty string"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"max_conns":0}"#, "max_conns is not an integer of at least 1"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"max_conns":-3}"#, "max_conns is not an integer of at least 1"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"max_conns":"3"}"#, "max_conns is not an integer of at least 1"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"max_conns":1.5}"#, "max_conns is not an integer of at least 1"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"role":"root"}"#, "unknown role"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"role":"Admin"}"#, "unknown role"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"role":["admin"]}"#, "role is not a string"),
        (#"{"sub":"a","exp":1900000000,"symbols":[],"aud":"ticker"}"#, "aud is present but no audience is configured"),
    ])
    func refuses(_ payload: String, _ reason: String) {
        #expect(error(payload) == .invalidClaims(reason))
    }

    @Test func subjectLengthLimit() throws {
        let longest = String(repeating: "s", count: TokenVerifier.maxSubjectBytes)
        #expect(try verify(#"{"sub":"\#(longest)","exp":1900000000,"symbols":[]}"#).subject == longest)
        #expect(error(#"{"sub":"\#(longest)s","exp":1900000000,"symbols":[]}"#) == .invalidClaims("sub is longer than 256 bytes"))
    }

    @Test func audience() throws {
        let base = #""sub":"a","exp":1900000000,"symbols":[]"#
        #expect(try verify("{\(base),\"aud\":\"ticker\"}", audience: "ticker").subject == "a")
        #expect(try verify("{\(base),\"aud\":[\"other\",\"ticker\"]}", audience: "ticker").subject == "a")
        #expect(error("{\(base)}", audience: "ticker") == .invalidClaims("missing aud"))
        #expect(error("{\(base),\"aud\":\"other\"}", audience: "ticker") == .invalidClaims("aud does not name this server"))
        #expect(error("{\(base),\"aud\":[1]}", audience: "ticker") == .invalidClaims("aud holds a non-string"))
        #expect(error("{\(base),\"aud\":7}", audience: "ticker") == .invalidClaims("aud is not a string or an array"))
    }

    /// Claims are checked before times: an expired token with a bad claim reports the claim.
    @Test func claimsBeforeTimes() {
        #expect(error(#"{"sub":"a","exp":1,"symbols":[],"role":"root"}"#) == .invalidClaims("unknown role"))
        #expect(error(#"{"sub":"a","exp":1,"symbols":[]}"#) == .expired)
    }
}
