import Foundation

/// Parses client text frames. Every failure is a `ControlError` that can be
/// sent straight back, and it carries the request `id` whenever the input was
/// at least a JSON object with an integer `id`, so clients can correlate.
public enum ControlRequestDecoder {
    /// Larger frames are refused before parsing, bounding the work one
    /// message can cause.
    public static let maxInputBytes = 64 * 1024
    public static let maxSymbolsPerRequest = 10_000

    public static func decode(_ text: String) throws(ControlError) -> ControlRequest {
        try decode(bytes: Array(text.utf8))
    }

    public static func decode(bytes: some Collection<UInt8>) throws(ControlError) -> ControlRequest {
        guard bytes.count <= maxInputBytes else {
            throw ControlError(
                code: .badRequest,
                message: "request of \(bytes.count) bytes exceeds the \(maxInputBytes)-byte limit")
        }
        guard let root = JSONValue.parse(Data(bytes)) else {
            throw ControlError(code: .badRequest, message: "request is not valid JSON")
        }
        guard let object = root.object else {
            throw ControlError(code: .badRequest, message: "request must be a JSON object, got \(root.kindName)")
        }
        let id = try decodeID(object["id"])
        guard let opValue = object["op"] else {
            throw ControlError(code: .badRequest, id: id, message: "missing field \"op\"")
        }
        guard let op = opValue.string else {
            throw ControlError(code: .badRequest, id: id, message: "field \"op\" must be a string, got \(opValue.kindName)")
        }
        switch op {
        case "subscribe": return .subscribe(id: id, symbols: try decodeSymbols(object["symbols"], id: id))
        case "unsubscribe": return .unsubscribe(id: id, symbols: try decodeSymbols(object["symbols"], id: id))
        case "list": return .list(id: id)
        case "ping": return .ping(id: id)
        default:
            throw ControlError(
                code: .unknownOp, id: id,
                message: "unknown op \(JSONText.quoted(op)); expected subscribe, unsubscribe, list or ping")
        }
    }

    private static func decodeID(_ value: JSONValue?) throws(ControlError) -> Int? {
        guard let value, value != .null else { return nil }
        guard let integer = value.integer, let id = Int(exactly: integer) else {
            throw ControlError(code: .badRequest, message: "field \"id\" must be an integer, got \(value.kindName)")
        }
        return id
    }

    private static func decodeSymbols(_ value: JSONValue?, id: Int?) throws(ControlError) -> [String] {
        guard let value else {
            throw ControlError(code: .badRequest, id: id, message: "missing field \"symbols\"")
        }
        guard let elements = value.array else {
            throw ControlError(
                code: .badRequest, id: id, message: "field \"symbols\" must be an array of strings, got \(value.kindName)")
        }
        guard !elements.isEmpty else {
            throw ControlError(code: .badRequest, id: id, message: "field \"symbols\" must not be empty")
        }
        guard elements.count <= maxSymbolsPerRequest else {
            throw ControlError(
                code: .limitExceeded, id: id,
                message: "\(elements.count) symbols in one request exceeds the limit of \(maxSymbolsPerRequest)")
        }
        var symbols: [String] = []
        symbols.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard let symbol = element.string else {
                throw ControlError(
                    code: .badRequest, id: id,
                    message: "symbols[\(index)] must be a string, got \(element.kindName)")
            }
            symbols.append(symbol)
        }
        return symbols
    }
}
