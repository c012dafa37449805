import Auth
import Testing

/// Codes for metrics, and descriptions safe to put in `WWW-Authenticate` and close reasons
/// whatever the token held.
@Suite struct TokenErrorTests {
    static let hostile = "\"\\\u{7}\u{FF}\u{1F600}" + String(repeating: "x", count: 300)

    static let all: [TokenError] = [
        .tooLarge(1_000_000_000), .malformed("header is not JSON"), .unsupportedAlgorithm("none"),
        .unknownKey(""), .unknownKey("k9"), .badSignature, .expired, .notYetValid, .invalidClaims("missing sub"),
        .malformed(hostile), .unsupportedAlgorithm(hostile), .unknownKey(hostile), .invalidClaims(hostile),
    ]

    @Test func codes() {
        #expect(Self.all.prefix(9).map(\.code) == [
            "too_large", "malformed", "algorithm", "unknown_kid", "unknown_kid", "signature", "expired",
            "not_yet_valid", "claims",
        ])
    }

    @Test(arguments: all)
    func descriptionIsQuotableAndShort(_ error: TokenError) {
        let bytes = Array(error.description.utf8)
        #expect(!bytes.isEmpty)
        #expect(bytes.count <= TokenError.maxDescriptionBytes)
        #expect(bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
    }

    @Test func descriptions() {
        #expect(TokenError.tooLarge(5000).description == "token is 5000 bytes, over the 4096-byte limit")
        #expect(TokenError.unsupportedAlgorithm("none").description == "algorithm 'none' is not accepted, only HS256")
        #expect(TokenError.unknownKey("").description == "token header has no kid")
        #expect(TokenError.unknownKey("k9").description == "unknown key id 'k9'")
        #expect(TokenError.expired.description == "token has expired")
    }

    /// Header values reach the error as short, sanitised excerpts.
    @Test func headerValuesAreExcerpted() {
        let token = TestKey.token(header: #"{"alg":"HS256","kid":"\"\\\u0007é\#(String(repeating: "k", count: 100))"}"#,
                                  payload: #"{"sub":"a","exp":9,"symbols":[]}"#)
        let error = tokenError { () throws(TokenError) in try TokenVerifier(keys: TestKey.keys).verify(token, nowSeconds: 0) }
        #expect(error == .unknownKey("???" + "?" + String(repeating: "k", count: 28)))
    }
}
