import Auth
import Testing

/// One refusal per way a token can be wrong, each with its exact `TokenError`, in the order
/// the verifier checks: size, shape, header, signature, payload, claims, times.
@Suite struct TokenVerifierTests {
    static let now: Int64 = 1_800_000_000
    static let claims = TokenClaims(subject: "carol", expiresAt: now + 3600, issuedAt: now - 60, symbols: ["AAPL"])
    static let verifier = TokenVerifier(keys: TestKey.keys)

    /// The claims above as JSON, for tokens signed by hand.
    static let payload = #"{"sub":"carol","exp":1800003600,"iat":1799999940,"symbols":["AAPL"]}"#

    static func good() -> String { TokenMinter.mint(claims, kid: TestKey.kid, secret: TestKey.secret) }

    static func parts(_ token: String) -> [String] { token.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }

    static func error(_ token: String, verifier: TokenVerifier = verifier, now: Int64 = now) -> TokenError? {
        tokenError { () throws(TokenError) in try verifier.verify(token, nowSeconds: now) }
    }

    @Test func acceptsAGoodToken() throws {
        #expect(try Self.verifier.verify(Self.good(), nowSeconds: Self.now) == Self.claims)
        #expect(try Self.verifier.verify(TestKey.token(payload: Self.payload), nowSeconds: Self.now) == Self.claims)
        // Any StringProtocol: a token cut out of a header line.
        let line = "Bearer " + Self.good()
        #expect(try Self.verifier.verify(line.dropFirst(7), nowSeconds: Self.now) == Self.claims)
    }

    // MARK: - Tampering

    @Test func changedHeader() {
        var parts = Self.parts(Self.good())
        parts[0] = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT","kid":"test","x":1}"#.utf8))
        #expect(Self.error(parts.joined(separator: ".")) == .badSignature)
    }

    @Test func changedPayload() {
        var parts = Self.parts(Self.good())
        var wider = Self.claims
        wider.symbols = ["*"]
        // The payload of another genuine token, spliced in.
        parts[1] = Self.parts(TokenMinter.mint(wider, kid: TestKey.kid, secret: TestKey.secret))[1]
        #expect(Self.error(parts.joined(separator: ".")) == .badSignature)
    }

    @Test func changedSignature() {
        var parts = Self.parts(Self.good())
        let signature = parts[2]
        parts[2] = (signature.first == "A" ? "B" : "A") + signature.dropFirst()
        #expect(Self.error(parts.joined(separator: ".")) == .badSignature)
        parts[2] = String(signature.dropLast(4))
        #expect(Self.error(parts.joined(separator: ".")) == .badSignature)
        parts[2] = ""
        #expect(Self.error(parts.joined(separator: ".")) == .badSignature)
    }

    @Test func signedWithAnotherSecret() {
        let other = TokenMinter.mint(Self.claims, kid: TestKey.kid, secret: [UInt8](repeating: 1, count: 32))
        #expect(Self.error(other) == .badSignature)
    }

    // MARK: - Algorithm and key

    @Test func algNoneWithEmptySignature() {
        let token = TestKey.token(header: #"{"alg":"none","typ":"JWT","kid":"test"}"#, payload: Self.payload)
        let unsigned = Self.parts(token).prefix(2).joined(separator: ".") + "."
        #expect(Self.error(unsigned) == .unsupportedAlgorithm("none"))
    }

    @Test(arguments: ["HS512", "HS384", "RS256", "hs256", "HS256 ", "none", "None", ""])
    func otherAlgorithms(_ alg: String) {
        let token = TestKey.token(header: #"{"alg":"\#(alg)","kid":"test"}"#, payload: Self.payload)
        #expect(Self.error(token) == .unsupportedAlgorithm(alg))
    }

    @Test func unknownKid() {
        let token = TestKey.token(header: #"{"alg":"HS256","kid":"other"}"#, payload: Self.payload)
        #expect(Self.error(token) == .unknownKey("other"))
        let none = TestKey.token(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: Self.payload)
        #expect(Self.error(none) == .unknownKey(""))
    }

    // MARK: - Times

    @Test func expired() {
        #expect(Self.error(Self.good(), now: Self.claims.expiresAt) == .expired)
        #expect(Self.error(Self.good(), now: Self.claims.expiresAt - 1) == nil)
    }

    @Test func notYetValid() {
        var claims = Self.claims
        claims.notBefore = Self.now + 10
        let token = TokenMinter.mint(claims, kid: TestKey.kid, secret: TestKey.secret)
        #expect(Self.error(token) == .notYetValid)
        #expect(Self.error(token, now: Self.now + 10) == nil)
    }

    @Test func leewayAllowsClockSkewBothWays() {
        var claims = Self.claims
        claims.notBefore = Self.now + 30
        let token = TokenMinter.mint(claims, kid: TestKey.kid, secret: TestKey.secret)
        let lenient = TokenVerifier(keys: TestKey.keys, leewaySeconds: 30)
        #expect(Self.error(token, verifier: lenient, now: Self.now) == nil)
        #expect(Self.error(token, verifier: lenient, now: Self.now - 1) == .notYetValid)
        #expect(Self.error(token, verifier: lenient, now: claims.expiresAt + 29) == nil)
        #expect(Self.error(token, verifier: lenient, now: claims.expiresAt + 30) == .expired)
    }

    @Test func extremeTimesDoNotOverflow() {
        let forever = TokenClaims(subject: "x", expiresAt: .max, notBefore: .min, symbols: [])
        let token = TokenMinter.mint(forever, kid: TestKey.kid, secret: TestKey.secret)
        let lenient = TokenVerifier(keys: TestKey.keys, leewaySeconds: 3600)
        #expect(Self.error(token, verifier: lenient, now: .max) == nil)
        #expect(Self.error(token, verifier: lenient, now: .min) == nil)
    }

    // MARK: - Size and shape

    @Test func tooLargeBeforeAnyDecoding() {
        // Garbage that would be malformed: the size is what is reported.
        let garbage = String(repeating: "!", count: TokenVerifier.maxTokenBytes + 1)
        #expect(Self.error(garbage) == .tooLarge(TokenVerifier.maxTokenBytes + 1))
        #expect(Self.error(String(repeating: "!", count: TokenVerifier.maxTokenBytes)) == .malformed("expected three dot-separated parts"))
        // A well-formed, correctly signed token over the limit is refused for its size too.
        var big = Self.claims
        big.symbols = (0..<600).map { "S\($0)" }
        let token = TokenMinter.mint(big, kid: TestKey.kid, secret: TestKey.secret)
        #expect(Self.error(token) == .tooLarge(token.utf8.count))
    }

    @Test(arguments: [
        ("", "expected three dot-separated parts"),
        ("a.b", "expected three dot-separated parts"),
        ("a.b.c.d", "expected three dot-separated parts"),
        ("a.b.c.d.e", "expected three dot-separated parts"),
        ("e30=.e30.", "header is not base64url"),
        ("e 30.e30.", "header is not base64url"),
        ("bm90IGpzb24.e30.", "header is not JSON"),
        ("W10.e30.", "header is not a JSON object"),
    ])
    func malformedShape(_ token: String, _ reason: String) {
        #expect(Self.error(token) == .malformed(reason))
    }

    @Test(arguments: [
        (#"{"alg":"HS256","alg":"HS256","kid":"test"}"#, "header repeats a member name"),
        (#"{"kid":"test"}"#, "header has no alg"),
        (#"{"alg":["HS256"],"kid":"test"}"#, "header alg is not a string"),
        (#"{"alg":"HS256","typ":"JWS","kid":"test"}"#, "header typ is not JWT"),
        (#"{"alg":"HS256","typ":7,"kid":"test"}"#, "header typ is not JWT"),
        (#"{"alg":"HS256","crit":["exp"],"kid":"test"}"#, "header crit is not supported"),
        (#"{"alg":"HS256","kid":7}"#, "header kid is not a string"),
        (#"{"alg":"HS256","kid":"test","x":[[[[[[[[[]]]]]]]]]}"#, "header nests deeper than 8"),
        // Found by the fuzzer: a truncated nest outgrew the JSON reader's tape and trapped.
        ("[[[[[[[[{\u{8}", "header is not JSON"),
    ])
    func malformedHeader(_ header: String, _ reason: String) {
        #expect(Self.error(TestKey.token(header: header, payload: Self.payload)) == .malformed(reason))
    }

    @Test func typIsCaseInsensitive() {
        for typ in ["JWT", "jwt", "Jwt"] {
            let token = TestKey.token(header: #"{"alg":"HS256","typ":"\#(typ)","kid":"test"}"#, payload: Self.payload)
            #expect(Self.error(token) == nil, "typ \(typ)")
        }
    }

    /// The signature is checked before the payload is read: a payload that is not even
    /// base64url gives `badSignature` unsigned, `malformed` only when correctly signed.
    @Test func signatureBeforePayload() {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","kid":"test"}"#.utf8))
        let input = header + ".!!!"
        #expect(Self.error(input + ".AAAA") == .badSignature)
        let signed = input + "." + Base64URL.encode(HMACSHA256.authenticate(Array(input.utf8), key: TestKey.secret))
        #expect(Self.error(signed) == .malformed("payload is not base64url"))
    }

    @Test(arguments: [
        ("not json", "payload is not JSON"),
        (#"["sub"]"#, "payload is not a JSON object"),
        (#"{"sub":"a","sub":"b","exp":4102444800,"symbols":[]}"#, "payload repeats a member name"),
    ])
    func malformedPayload(_ payload: String, _ reason: String) {
        #expect(Self.error(TestKey.token(payload: payload)) == .malformed(reason))
    }
}
