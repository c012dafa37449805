import MarketData

/// Issues tokens the verifier accepts: for tests, for `ticker` to hand out, and for operators
/// without a JWT library at hand. Any RFC 7519 library can mint them too (the tests check
/// tokens from PyJWT).
public enum TokenMinter {
    /// Compact JWS, header `{"alg":"HS256","typ":"JWT","kid":kid}`, payload with the claims
    /// (symbols as a JSON array; nil ones left out).
    public static func mint(_ claims: TokenClaims, kid: String, secret: [UInt8]) -> String {
        var header = JSONText()
        header.field("alg", "HS256")
        header.field("typ", "JWT")
        header.field("kid", kid)
        var signingInput = Base64Codec.encode(header.close().utf8, alphabet: Base64Codec.urlAlphabet)
        signingInput.append(UInt8(ascii: "."))
        signingInput.append(contentsOf: Base64Codec.encode(claims.payloadJSON.utf8, alphabet: Base64Codec.urlAlphabet))
        let signature = HMACSHA256.authenticate(signingInput, key: secret)
        signingInput.append(UInt8(ascii: "."))
        signingInput.append(contentsOf: Base64Codec.encode(signature, alphabet: Base64Codec.urlAlphabet))
        return String(decoding: signingInput, as: UTF8.self)
    }
}
