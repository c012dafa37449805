import MarketData

/// The payload as JSON, both ways: read strictly from a verified token, written for minting.
extension TokenClaims {
    /// Reads the claims from a payload object. Times must be integral JSON numbers (`1.0`
    /// and `1e9` count, `1.5` does not) within Int64; other members are ignored, but `aud`
    /// is checked against `audience` (see `TokenVerifier.audience`).
    static func decode(payload: JSONObject, audience: String?) throws(TokenError) -> TokenClaims {
        guard let subjectValue = payload["sub"] else { throw .invalidClaims("missing sub") }
        guard let subject = subjectValue.string else { throw .invalidClaims("sub is not a string") }
        guard !subject.isEmpty else { throw .invalidClaims("sub is empty") }
        guard subject.utf8.count <= TokenVerifier.maxSubjectBytes else {
            throw .invalidClaims("sub is longer than \(TokenVerifier.maxSubjectBytes) bytes")
        }
        guard !subject.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidClaims("sub holds a control character")
        }

        guard let expiresAt = try seconds(payload, "exp") else { throw .invalidClaims("missing exp") }
        let notBefore = try seconds(payload, "nbf")
        let issuedAt = try seconds(payload, "iat")

        guard let symbolsValue = payload["symbols"] else { throw .invalidClaims("missing symbols") }
        guard let array = symbolsValue.array else { throw .invalidClaims("symbols is not an array") }
        var symbols: [String] = []
        for element in array {
            guard let symbol = element.string else { throw .invalidClaims("symbols holds a non-string") }
            guard !symbol.isEmpty else { throw .invalidClaims("symbols holds an empty string") }
            symbols.append(symbol)
        }

        var maxConnections: Int?
        if let value = payload["max_conns"] {
            guard let number = value.integer, let count = Int(exactly: number), count >= 1 else {
                throw .invalidClaims("max_conns is not an integer of at least 1")
            }
            maxConnections = count
        }

        var role = TokenRole.subscribe
        if let value = payload["role"] {
            guard let name = value.string else { throw .invalidClaims("role is not a string") }
            guard let known = TokenRole(rawValue: name) else { throw .invalidClaims("unknown role") }
            role = known
        }

        try checkAudience(payload["aud"], expected: audience)
        return TokenClaims(
            subject: subject, expiresAt: expiresAt, notBefore: notBefore, issuedAt: issuedAt,
            symbols: symbols, maxConnections: maxConnections, role: role)
    }

    /// A NumericDate claim (RFC 7519 §2) as whole seconds; nil when absent.
    private static func seconds(_ payload: JSONObject, _ name: String) throws(TokenError) -> Int64? {
        guard let value = payload[name] else { return nil }
        guard let seconds = value.integer else { throw .invalidClaims("\(name) is not an integer number of seconds") }
        return seconds
    }

    /// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
    private static func checkAudience(_ value: JSONValue?, expected: String?) throws(TokenError) {
        guard let expected else {
            if value != nil { throw .invalidClaims("aud is present but no audience is configured") }
            return
        }
        guard let value else { throw .invalidClaims("missing aud") }
        var names: [String] = []
        if let single = value.string {
            names = [single]
        } else if let array = value.array {
            for element in array {
                guard let name = element.string else { throw .invalidClaims("aud holds a non-string") }
                names.append(name)
            }
        } else {
            throw .invalidClaims("aud is not a string or an array")
        }
        guard names.contains(expected) else { throw .invalidClaims("aud does not name this server") }
    }

    /// The payload JSON, members in a fixed order (`sub`, `exp`, `nbf`, `iat`, `symbols`,
    /// `max_conns`, `role`), nil ones left out.
    var payloadJSON: String {
        var text = JSONText()
        text.field("sub", subject)
        text.field("exp", expiresAt)
        if let notBefore { text.field("nbf", notBefore) }
        if let issuedAt { text.field("iat", issuedAt) }
        text.field("symbols", strings: symbols)
        if let maxConnections { text.field("max_conns", maxConnections) }
        text.field("role", role.rawValue)
        return text.close()
    }
}
