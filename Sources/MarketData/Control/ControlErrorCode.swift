/// Stable machine-readable codes; clients branch on these, never on the
/// human `message`, so the raw strings must not change.
public enum ControlErrorCode: String, Sendable, Equatable, CaseIterable {
    /// Not JSON, not an object, wrong field type, missing field, or too large.
    case badRequest = "bad_request"
    case unknownOp = "unknown_op"
    case unknownSymbol = "unknown_symbol"
    /// Too many symbols in one request or on one connection.
    case limitExceeded = "limit_exceeded"
    case rateLimited = "rate_limited"
    /// Clients must not send binary frames; data flows server → client only.
    case unexpectedBinary = "unexpected_binary"
    /// Auth on (`--auth-keys`): the symbols are outside the token's
    /// entitlement (listed), or an `auth` token names another subject.
    case forbidden = "forbidden"
    /// Auth on: the token of an `auth` request is not valid (signature,
    /// key, expiry, claims); the connection keeps its current token.
    case invalidToken = "invalid_token"

    // Ingest (`/v1/publish`) only: see `IngestRejection.Reason`.

    /// A published record breaks a field rule (flags, conflated count,
    /// reserved bytes, price exponent, crossed book, sequence range).
    case badRecord = "bad_record"
    /// The symbol belongs to the simulated feed or to another publisher.
    case symbolOwned = "symbol_owned"
    /// The sequence went backwards or repeated.
    case sequenceStale = "sequence_stale"
    /// The sequence skipped ahead: subscribers would see an undeclared gap.
    case sequenceGap = "sequence_gap"
}
