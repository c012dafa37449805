/// One value of a parsed document, as the control decoders read it: a
/// position on the tape. Booleans, integers and doubles stay distinct so the
/// decoders can report wrong types. Reading a string or number converts its
/// text then; nothing is converted that no decoder reads.
package struct JSONValue {
    let document: JSONDocument
    let index: Int

    /// Parses one JSON document with the bounded parser (see `JSONParser`).
    package static func parse(_ bytes: [UInt8], maxDepth: Int) throws(JSONParser.Failure) -> JSONValue {
        try JSONParser.parse(bytes, maxDepth: maxDepth).root
    }

    var node: JSONNode { document.nodes[index] }

    package var isNull: Bool { node.kind == .null }

    /// Integral values only; `1.0` and `1e2` count (JSON does not distinguish),
    /// `1.5` does not, nor does anything beyond a double (`1e400` is infinite).
    package var integer: Int64? {
        let node = node
        guard node.kind == .number else { return nil }
        let text = String(decoding: document.token(of: node), as: UTF8.self)
        if let value = Int64(text) { return value }
        guard let value = Double(text) else { return nil }
        return value.rounded() == value && abs(value) < 9e15 ? Int64(value) : nil
    }

    package var string: String? {
        let node = node
        switch node.kind {
        case .string:
            return String(decoding: document.token(of: node), as: UTF8.self)
        case .escapedString:
            var bytes: [UInt8] = []
            document.appendContent(of: node, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        default:
            return nil
        }
    }

    package var object: JSONObject? {
        node.kind == .object ? JSONObject(document: document, index: index) : nil
    }

    /// The elements, each a view like this one.
    package var array: JSONArray? {
        node.kind == .array ? JSONArray(document: document, index: index) : nil
    }

    /// Human name used in error messages ("expected an integer, got a string").
    package var kindName: String {
        switch node.kind {
        case .null: "null"
        case .false, .true: "a boolean"
        case .number: "a number"
        case .string, .escapedString: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
