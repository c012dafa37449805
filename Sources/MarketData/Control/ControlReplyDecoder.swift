/// Client side of the control channel. Unknown extra keys are ignored so a
/// newer server can add fields; unknown `type`s are reported because the
/// client cannot act on them.
public enum ControlReplyDecoder {
    public static func decode(_ text: String) throws(MalformedReply) -> ControlReply {
        let root: JSONValue
        do {
            root = try JSONValue.parse(Array(text.utf8), maxDepth: ControlRequestDecoder.maxNestingDepth)
        } catch {
            switch error {
            case .syntax: throw MalformedReply(reason: "not valid JSON")
            case .tooDeep(let limit): throw MalformedReply(reason: "nested more than \(limit) levels deep")
            case .duplicateName(let name):
                throw MalformedReply(reason: "repeats the key \(ControlRequestDecoder.quotedName(name))")
            }
        }
        guard let object = root.object else { throw MalformedReply(reason: "not a JSON object") }
        let fields = Fields(object: object)
        let type = try fields.string("type")
        switch type {
        case "welcome":
            let limits = Fields(object: try fields.object("limits"))
            return .welcome(
                WelcomeInfo(
                    protocolVersion: try fields.int("protocol"),
                    server: try fields.string("server"),
                    heartbeatMs: try fields.int("heartbeat_ms"),
                    symbolCount: try fields.int("symbols"),
                    limits: ConnectionLimits(
                        maxSymbolsPerConnection: try limits.int("max_symbols_per_connection"),
                        maxMessagesPerSecond: try limits.int("max_messages_per_second"),
                        maxMessageBytes: try limits.int("max_message_bytes")),
                    epoch: try fields.optionalUInt64("epoch"),
                    encoding: try fields.optionalString("encoding")))
        case "subscribed":
            var resume: ResumeReport?
            if object["resumed"] != nil || object["reset"] != nil {
                resume = ResumeReport(resumed: try fields.strings("resumed"), reset: try fields.strings("reset"))
            }
            return .subscribed(id: try fields.optionalID(), symbols: try fields.symbolRefs(), resume: resume)
        case "unsubscribed":
            var reason: String?
            if let value = object["reason"], !value.isNull {
                guard let text = value.string else { throw MalformedReply(reason: "\"reason\" is not a string") }
                reason = text
            }
            return .unsubscribed(id: try fields.optionalID(), symbols: try fields.symbolRefs(), reason: reason)
        case "token_expiring":
            return .tokenExpiring(inMs: try fields.int("in_ms"))
        case "authenticated":
            return .authenticated(id: try fields.optionalID(), expiresAt: Int64(try fields.int("exp")))
        case "subscriptions":
            return .subscriptions(id: try fields.optionalID(), symbols: try fields.symbolRefs(), intervals: try fields.intervals())
        case "pong":
            let time = try fields.int("time_ns")
            guard let timeNs = UInt64(exactly: time) else { throw MalformedReply(reason: "negative time_ns") }
            return .pong(id: try fields.optionalID(), timeNs: timeNs)
        case "error":
            let codeText = try fields.string("code")
            guard let code = ControlErrorCode(rawValue: codeText) else {
                throw MalformedReply(reason: "unknown error code \(JSONText.quoted(codeText))")
            }
            var symbols: [String]?
            if let value = object["symbols"], !value.isNull {
                guard let array = value.array else { throw MalformedReply(reason: "\"symbols\" is not an array") }
                symbols = try array.map { (element) throws(MalformedReply) in
                    guard let symbol = element.string else { throw MalformedReply(reason: "\"symbols\" holds a non-string") }
                    return symbol
                }
            }
            return .error(
                ControlError(code: code, id: try fields.optionalID(), message: try fields.string("message"), symbols: symbols))
        default:
            throw MalformedReply(reason: "unknown reply type \(JSONText.quoted(type))")
        }
    }
}

/// Typed field access with uniform error messages.
private struct Fields {
    let object: JSONObject

    func value(_ key: String) throws(MalformedReply) -> JSONValue {
        guard let value = object[key] else { throw MalformedReply(reason: "missing field \"\(key)\"") }
        return value
    }

    func string(_ key: String) throws(MalformedReply) -> String {
        guard let text = try value(key).string else { throw MalformedReply(reason: "field \"\(key)\" is not a string") }
        return text
    }

    func int(_ key: String) throws(MalformedReply) -> Int {
        guard let number = try value(key).integer, let int = Int(exactly: number) else {
            throw MalformedReply(reason: "field \"\(key)\" is not an integer")
        }
        return int
    }

    func object(_ key: String) throws(MalformedReply) -> JSONObject {
        guard let nested = try value(key).object else { throw MalformedReply(reason: "field \"\(key)\" is not an object") }
        return nested
    }

    /// The protocol allows `id` to be absent or null when there was none.
    func optionalID() throws(MalformedReply) -> Int? {
        guard let value = object["id"], !value.isNull else { return nil }
        guard let number = value.integer, let id = Int(exactly: number) else {
            throw MalformedReply(reason: "field \"id\" is not an integer")
        }
        return id
    }

    func optionalString(_ key: String) throws(MalformedReply) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.string else { throw MalformedReply(reason: "field \"\(key)\" is not a string") }
        return text
    }

    func optionalUInt64(_ key: String) throws(MalformedReply) -> UInt64? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let number = value.integer, let result = UInt64(exactly: number) else {
            throw MalformedReply(reason: "field \"\(key)\" is not a non-negative integer")
        }
        return result
    }

    /// An array of strings; absent counts as empty.
    func strings(_ key: String) throws(MalformedReply) -> [String] {
        guard let value = object[key], !value.isNull else { return [] }
        guard let array = value.array else { throw MalformedReply(reason: "\"\(key)\" is not an array") }
        return try array.map { (element) throws(MalformedReply) in
            guard let text = element.string else { throw MalformedReply(reason: "\"\(key)\" holds a non-string") }
            return text
        }
    }

    /// `intervals` of a `subscriptions` reply: symbol → ms; absent is none.
    func intervals() throws(MalformedReply) -> [String: Int] {
        guard let value = object["intervals"], !value.isNull else { return [:] }
        guard let members = value.object?.members else { throw MalformedReply(reason: "\"intervals\" is not an object") }
        var intervals: [String: Int] = [:]
        for (name, ms) in members {
            guard let number = ms.integer, let int = Int(exactly: number) else {
                throw MalformedReply(reason: "\"intervals\" holds a non-integer")
            }
            intervals[String(decoding: name, as: UTF8.self)] = int
        }
        return intervals
    }

    func symbolRefs() throws(MalformedReply) -> [SymbolRef] {
        guard let array = try value("symbols").array else { throw MalformedReply(reason: "\"symbols\" is not an array") }
        return try array.map { (element) throws(MalformedReply) in
            guard let entry = element.object else { throw MalformedReply(reason: "\"symbols\" entry is not an object") }
            let fields = Fields(object: entry)
            let symbol = try fields.string("symbol")
            guard let id = UInt32(exactly: try fields.int("id")) else {
                throw MalformedReply(reason: "symbol id out of range for \(symbol)")
            }
            return SymbolRef(symbol: symbol, id: id)
        }
    }
}
