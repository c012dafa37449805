/// Why a token was refused. Every case answers HTTP 401 (`WWW-Authenticate: Bearer
/// error="invalid_token"`); `code` labels metrics and logs, `description` is the one sentence
/// a client may be told.
///
/// The associated strings are ours, or short sanitised excerpts of the token's header (an
/// algorithm name, a key id): never the token, never a secret (RFC 8725 §3.3 about keeping
/// tokens out of logs).
public enum TokenError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Longer than `TokenVerifier.maxTokenBytes`; checked before any decoding.
    case tooLarge(Int)
    /// Not three base64url parts, bad JSON, a bad header, a payload that is not an object.
    case malformed(String)
    /// `alg` other than exactly `HS256` (including `none` and `HS512`).
    case unsupportedAlgorithm(String)
    /// `kid` names no key we hold; empty when the header has none.
    case unknownKey(String)
    case badSignature
    /// `now >= exp` (plus leeway).
    case expired
    /// `now < nbf` (minus leeway).
    case notYetValid
    /// A required claim missing, or a claim of the wrong type or out of range.
    case invalidClaims(String)

    /// Stable short code for metrics labels and logs.
    public var code: String {
        switch self {
        case .tooLarge: "too_large"
        case .malformed: "malformed"
        case .unsupportedAlgorithm: "algorithm"
        case .unknownKey: "unknown_kid"
        case .badSignature: "signature"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .invalidClaims: "claims"
        }
    }

    /// Longest `description`, in bytes: it goes into a quoted `WWW-Authenticate` parameter
    /// and into WebSocket close reasons, which must fit 123 bytes with the close code.
    public static let maxDescriptionBytes = 100

    /// One sentence: printable ASCII without double quotes or backslashes (so it can be
    /// quoted in a header as it is), at most `maxDescriptionBytes` bytes.
    public var description: String {
        let sentence: String
        switch self {
        case .tooLarge(let size): sentence = "token is \(size) bytes, over the \(TokenVerifier.maxTokenBytes)-byte limit"
        case .malformed(let reason): sentence = "malformed token: \(reason)"
        case .unsupportedAlgorithm(let alg): sentence = "algorithm '\(alg)' is not accepted, only HS256"
        case .unknownKey(let kid) where kid.isEmpty: sentence = "token header has no kid"
        case .unknownKey(let kid): sentence = "unknown key id '\(kid)'"
        case .badSignature: sentence = "signature does not match"
        case .expired: sentence = "token has expired"
        case .notYetValid: sentence = "token is not valid yet"
        case .invalidClaims(let reason): sentence = "invalid claims: \(reason)"
        }
        return Self.excerpt(sentence, limit: Self.maxDescriptionBytes)
    }

    /// `text` made safe to quote in a header or log line: every character that is not
    /// printable ASCII, and `"` and `\`, becomes `?`; cut to `limit` bytes.
    static func excerpt(_ text: some StringProtocol, limit: Int) -> String {
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            guard out.count < limit else { break }
            let value = scalar.value
            let safe = value >= 0x20 && value < 0x7F && value != 0x22 && value != 0x5C
            out.append(safe ? UInt8(value) : UInt8(ascii: "?"))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
