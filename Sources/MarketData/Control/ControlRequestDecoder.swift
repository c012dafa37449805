/// Parses client text frames. Every failure is a `ControlError` that can be
/// sent straight back, and it carries the request `id` whenever the input was
/// at least a JSON object with an integer `id`, so clients can correlate.
///
/// Cost is linear in the input length and bounded by `maxInputBytes` (see
/// `JSONParser`); the parsed document is freed when a call returns.
public enum ControlRequestDecoder {
    /// Larger frames are refused before parsing, bounding the work one
    /// message can cause.
    public static let maxInputBytes = 64 * 1024
    public static let maxSymbolsPerRequest = 10_000
    /// Tickers are at most 8 ASCII bytes (`SymbolTable.maxSymbolLength`); a
    /// longer string is refused here, so no later `String` comparison of it
    /// (normalising, quadratic in its length) can be long.
    public static let maxSymbolBytes = 32
    /// How deep objects and arrays may nest, the message itself counting as one.
    /// The protocol needs 3 (a reply's `symbols` entries: object, array, object;
    /// requests need 2); 8 leaves room for the extra fields a newer peer may
    /// send (unknown keys are ignored, whatever they hold) while keeping the
    /// parser's recursion trivially shallow. Deeper is `bad_request`.
    public static let maxNestingDepth = 8

    public static func decode(_ text: String) throws(ControlError) -> ControlRequest {
        try decode(bytes: Array(text.utf8))
    }

    public static func decode(bytes: some Collection<UInt8>) throws(ControlError) -> ControlRequest {
        let object = try parseObject(bytes)
        let id = try decodeID(object["id"])
        guard let opValue = object["op"] else {
            throw ControlError(code: .badRequest, id: id, message: "missing field \"op\"")
        }
        guard let op = opValue.string else {
            throw ControlError(code: .badRequest, id: id, message: "field \"op\" must be a string, got \(opValue.kindName)")
        }
        // Compared as bytes: `String` equality normalises a client's string,
        // quadratic in a run of combining marks (450 ms for a 32 KB `op`).
        let name = op.utf8
        if name.elementsEqual("subscribe".utf8) {
            let symbols = try decodeSymbols(object["symbols"], id: id)
            let resume = try decodeResume(object, id: id)
            return .subscribe(id: id, symbols: symbols, resume: resume, intervalMs: try decodeInterval(object["interval_ms"], id: id))
        }
        if name.elementsEqual("unsubscribe".utf8) {
            return .unsubscribe(id: id, symbols: try decodeSymbols(object["symbols"], id: id))
        }
        if name.elementsEqual("list".utf8) { return .list(id: id) }
        if name.elementsEqual("ping".utf8) { return .ping(id: id) }
        if name.elementsEqual("auth".utf8) {
            guard let value = object["token"], let token = value.string, !token.isEmpty else {
                throw ControlError(code: .badRequest, id: id, message: "auth needs \"token\": a non-empty string")
            }
            return .auth(id: id, token: token)
        }
        throw ControlError(
            code: .unknownOp, id: id,
            message: "unknown op \(quotedPrefix(op)); expected subscribe, unsubscribe, list, ping or auth")
    }

    /// The `id` of a request that will not be served (e.g. rate limited), so
    /// the refusal can carry it: the same bounded parse as `decode`, and the
    /// same rule, `nil` unless the text is a JSON object with an integer `id`.
    public static func requestID(in text: String) -> Int? {
        guard let object = try? parseObject(Array(text.utf8)) else { return nil }
        return try? decodeID(object["id"])
    }

    /// The top-level object. Its failures come before the `id` could be read.
    private static func parseObject(_ bytes: some Collection<UInt8>) throws(ControlError) -> JSONObject {
        guard bytes.count <= maxInputBytes else {
            throw ControlError(
                code: .badRequest,
                message: "request of \(bytes.count) bytes exceeds the \(maxInputBytes)-byte limit")
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(Array(bytes), maxDepth: maxNestingDepth)
        } catch {
            switch error {
            case .syntax:
                throw ControlError(code: .badRequest, message: "request is not valid JSON")
            case .tooDeep(let limit):
                throw ControlError(
                    code: .badRequest, message: "request nests objects and arrays more than \(limit) levels deep")
            case .duplicateName(let name):
                throw ControlError(code: .badRequest, message: "request repeats the key \(quotedName(name)) in one object")
            }
        }
        guard let object = root.object else {
            throw ControlError(code: .badRequest, message: "request must be a JSON object, got \(root.kindName)")
        }
        return object
    }

    /// Quoted for an error message, cut to 40 scalars: a client's string may be 64 KB.
    static func quotedPrefix(_ text: String) -> String {
        var prefix = String.UnicodeScalarView()
        for (count, scalar) in text.unicodeScalars.enumerated() {
            guard count < 40 else { return JSONText.quoted(String(prefix) + "…") }
            prefix.append(scalar)
        }
        return JSONText.quoted(String(prefix))
    }

    static func quotedName(_ name: [UInt8]) -> String {
        quotedPrefix(String(decoding: name, as: UTF8.self))
    }

    private static func decodeID(_ value: JSONValue?) throws(ControlError) -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let integer = value.integer, let id = Int(exactly: integer) else {
            throw ControlError(code: .badRequest, message: "field \"id\" must be an integer, got \(value.kindName)")
        }
        return id
    }

    /// `from` (an object of symbol → last sequence seen) and `epoch`. A
    /// `from` naming a symbol the request does not subscribe is refused, so
    /// the client never wonders why a resume point was ignored.
    private static func decodeResume(_ object: JSONObject, id: Int?) throws(ControlError) -> ResumeRequest? {
        let epoch: UInt64?
        if let value = object["epoch"], !value.isNull {
            guard let number = value.integer, let parsed = UInt64(exactly: number), parsed <= ResumeRequest.maxSequence else {
                throw ControlError(
                    code: .badRequest, id: id, message: "field \"epoch\" must be an integer from 0 to 2^53, got \(value.kindName)")
            }
            epoch = parsed
        } else {
            epoch = nil
        }
        guard let value = object["from"], !value.isNull else {
            return nil
        }
        guard let members = value.object?.members else {
            throw ControlError(
                code: .badRequest, id: id,
                message: "field \"from\" must be an object of symbol: sequence, got \(value.kindName)")
        }
        guard members.count <= maxSymbolsPerRequest else {
            throw ControlError(
                code: .limitExceeded, id: id,
                message: "\(members.count) entries in \"from\" exceeds the limit of \(maxSymbolsPerRequest)")
        }
        var points: [ResumePoint] = []
        points.reserveCapacity(members.count)
        for (name, sequence) in members {
            guard name.count <= maxSymbolBytes else {
                throw ControlError(code: .badRequest, id: id, message: "a \"from\" key is longer than \(maxSymbolBytes) bytes")
            }
            let symbol = String(decoding: name, as: UTF8.self)
            guard let number = sequence.integer, let seq = UInt64(exactly: number), seq <= ResumeRequest.maxSequence else {
                throw ControlError(
                    code: .badRequest, id: id,
                    message: "from[\(quotedPrefix(symbol))] must be an integer from 0 to 2^53, got \(sequence.kindName)")
            }
            points.append(ResumePoint(symbol: symbol, sequence: seq))
        }
        return ResumeRequest(points: points, epoch: epoch)
    }

    /// `interval_ms`: absent or null is 0 (every tick); otherwise an integer,
    /// 0 or within `ControlRequest.intervalRange`.
    private static func decodeInterval(_ value: JSONValue?, id: Int?) throws(ControlError) -> Int {
        guard let value, !value.isNull else { return 0 }
        guard let number = value.integer, let ms = Int(exactly: number), ControlRequest.isValidInterval(ms) else {
            let got = value.integer.map { String($0) } ?? value.kindName
            throw ControlError(
                code: .badRequest, id: id,
                message: "field \"interval_ms\" must be \(ControlRequest.intervalRule), got \(got)")
        }
        return ms
    }

    private static func decodeSymbols(_ value: JSONValue?, id: Int?) throws(ControlError) -> [String] {
        guard let value else {
            throw ControlError(code: .badRequest, id: id, message: "missing field \"symbols\"")
        }
        guard let elements = value.array else {
            throw ControlError(
                code: .badRequest, id: id, message: "field \"symbols\" must be an array of strings, got \(value.kindName)")
        }
        let count = elements.count
        guard count > 0 else {
            throw ControlError(code: .badRequest, id: id, message: "field \"symbols\" must not be empty")
        }
        guard count <= maxSymbolsPerRequest else {
            throw ControlError(
                code: .limitExceeded, id: id,
                message: "\(count) symbols in one request exceeds the limit of \(maxSymbolsPerRequest)")
        }
        var symbols: [String] = []
        symbols.reserveCapacity(count)
        for (index, element) in elements.enumerated() {
            guard let symbol = element.string else {
                throw ControlError(
                    code: .badRequest, id: id,
                    message: "symbols[\(index)] must be a string, got \(element.kindName)")
            }
            guard symbol.utf8.count <= maxSymbolBytes else {
                throw ControlError(
                    code: .badRequest, id: id,
                    message: "symbols[\(index)] is longer than \(maxSymbolBytes) bytes")
            }
            symbols.append(symbol)
        }
        return symbols
    }
}
