/// Reassembles data frames into messages and enforces the per-message rules: fragment
/// sequencing (§5.4), size and fragment-count limits, and UTF-8 validity of text (§8.1).
///
/// A frame is announced with `begin` as soon as its header is known, so the limits and
/// sequencing are checked before its payload is buffered; text payload can then be
/// validated while the frame is still arriving (`validatePartial`), failing fast on the
/// first invalid byte instead of at the end of the frame or message.
struct WebSocketMessageAssembler: Sendable {
    private enum Kind: Sendable { case text, binary }

    private let limits: WebSocketLimits
    private var kind: Kind?
    private var bytes: [UInt8] = []
    private var fragments = 0
    private var validator = UTF8Validator()
    /// Payload bytes of the frame in progress that `validatePartial` has already checked.
    private var validatedPrefix = 0

    init(limits: WebSocketLimits) {
        self.limits = limits
    }

    /// No message open: a fresh assembler would behave the same.
    var isIdle: Bool { kind == nil }

    /// Whether payload of a data frame with this opcode is text, given the open message.
    func isText(_ opcode: WebSocketOpcode) -> Bool {
        opcode == .text || (opcode == .continuation && kind == .text)
    }

    /// Checks a data frame's header against the message in progress and opens a message
    /// for a first frame. Called exactly once per data frame, before `validatePartial`/`finish`.
    mutating func begin(_ header: WebSocketFrameHeader) throws(WebSocketProtocolError) {
        switch header.opcode {
        case .continuation:
            guard kind != nil else { throw .unexpectedContinuation }
            guard fragments < limits.maxFragments else { throw .tooManyFragments }
            guard header.payloadLength <= limits.maxMessageSize - bytes.count else { throw .messageTooLarge }
            fragments += 1
        case .text, .binary:
            guard kind == nil else { throw .expectedContinuation }
            guard header.payloadLength <= limits.maxMessageSize else { throw .messageTooLarge }
            kind = header.opcode == .text ? .text : .binary
            fragments = 1
        case .close, .ping, .pong:
            preconditionFailure("control frames are not part of a message")
        }
        validatedPrefix = 0
    }

    /// Validates the next received text bytes of the frame in progress; the caller passes
    /// the bytes following the first `partialValidatedCount` ones.
    mutating func validatePartial(_ payload: UnsafeRawBufferPointer) throws(WebSocketProtocolError) {
        guard kind == .text else { return }
        guard validator.feed(payload) else { throw .invalidUTF8 }
        validatedPrefix += payload.count
    }

    /// How many payload bytes of the frame in progress are already validated.
    var partialValidatedCount: Int { validatedPrefix }

    /// Adds a complete data frame (already passed to `begin`). Returns the message when
    /// this frame finishes it.
    mutating func finish(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketMessage? {
        if kind == .text {
            let rest = frame.payload.count - validatedPrefix
            if rest > 0 {
                let valid = frame.payload.withUnsafeBytes { raw in
                    validator.feed(UnsafeRawBufferPointer(rebasing: raw[validatedPrefix...]))
                }
                guard valid else { throw .invalidUTF8 }
            }
            if frame.header.fin && !validator.isComplete { throw .invalidUTF8 }
        }
        validatedPrefix = 0
        if !frame.header.fin {
            bytes.append(contentsOf: frame.payload)
            return nil
        }
        // A single-frame message (the usual case) is passed on without a copy.
        let whole: [UInt8]
        if bytes.isEmpty {
            whole = frame.payload
        } else {
            bytes.append(contentsOf: frame.payload)
            whole = bytes
        }
        let message: WebSocketMessage =
            kind == .text ? .text(String(decoding: whole, as: UTF8.self)) : .binary(whole)
        kind = nil
        bytes = []
        fragments = 0
        validator.reset()
        return message
    }
}
