/// Parsing of a received close body (RFC 6455 §5.5.1): empty, or a 2-byte code followed
/// by a UTF-8 reason. Kept apart from the connection because both roles validate it the same way.
struct WebSocketClosePayload: Equatable, Sendable {
    /// nil for an empty body.
    var code: WebSocketCloseCode?
    var reason: String

    init(parsing body: [UInt8]) throws(WebSocketProtocolError) {
        if body.isEmpty {
            code = nil
            reason = ""
            return
        }
        guard body.count >= 2 else { throw .closePayloadTooShort }
        let raw = UInt16(body[0]) << 8 | UInt16(body[1])
        guard WebSocketCloseCode.isValidOnWire(raw) else { throw .invalidCloseCode(raw) }
        var validator = UTF8Validator()
        let valid = body.withUnsafeBytes { raw in
            validator.feed(UnsafeRawBufferPointer(rebasing: raw[2...]))
        }
        guard valid && validator.isComplete else { throw .invalidUTF8 }
        code = WebSocketCloseCode(rawValue: raw)
        reason = String(decoding: body[2...], as: UTF8.self)
    }
}
