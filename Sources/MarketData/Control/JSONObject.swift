/// An object of a parsed document. Member names were checked unique by the
/// parser; a lookup walks the members comparing bytes, which is linear in
/// the object and allocates nothing unless a name contains escapes.
///
/// Names are compared as UTF-8 bytes, which is what RFC 8259 means by equal
/// names. (`String` equality would also be wrong for hostile input: hashing
/// or comparing a `String` normalises it, quadratic in a long run of
/// combining marks; a 32 KB name took over a second.)
package struct JSONObject {
    let document: JSONDocument
    let index: Int

    /// Each member's value, in document order.
    package var values: [JSONValue] {
        var result: [JSONValue] = []
        var child = index + 1
        let end = Int(document.nodes[index].next)
        while child < end {
            result.append(JSONValue(document: document, index: child + 1))
            child = Int(document.nodes[child + 1].next)
        }
        return result
    }

    /// Each member's name (UTF-8, escapes decoded) and value, in document order.
    package var members: [(name: [UInt8], value: JSONValue)] {
        var result: [(name: [UInt8], value: JSONValue)] = []
        var child = index + 1
        let end = Int(document.nodes[index].next)
        while child < end {
            var name: [UInt8] = []
            document.appendContent(of: document.nodes[child], to: &name)
            result.append((name, JSONValue(document: document, index: child + 1)))
            child = Int(document.nodes[child + 1].next)
        }
        return result
    }

    /// Lookup by a name the program chose (`"op"`, `"symbols"`).
    package subscript(name: String) -> JSONValue? {
        var scratch: [UInt8] = []
        var child = index + 1
        let end = Int(document.nodes[index].next)
        while child < end {
            let node = document.nodes[child]
            let matches: Bool
            if node.kind == .string {
                let token = document.token(of: node)
                matches = token.count == name.utf8.count && token.elementsEqual(name.utf8)
            } else {
                scratch.removeAll(keepingCapacity: true)
                document.appendContent(of: node, to: &scratch)
                matches = scratch.elementsEqual(name.utf8)
            }
            if matches { return JSONValue(document: document, index: child + 1) }
            child = Int(document.nodes[child + 1].next)
        }
        return nil
    }
}
