/// An array of a parsed document, read in order by stepping over each
/// element's subtree; nothing is copied or allocated.
package struct JSONArray: Sequence {
    let document: JSONDocument
    let index: Int

    package var isEmpty: Bool { document.nodes[index].next == Int32(index + 1) }

    /// Counts by walking the elements: linear in the element count.
    package var count: Int {
        var count = 0
        var iterator = makeIterator()
        while iterator.next() != nil { count += 1 }
        return count
    }

    package func makeIterator() -> Iterator {
        Iterator(document: document, child: index + 1, end: Int(document.nodes[index].next))
    }

    package struct Iterator: IteratorProtocol {
        let document: JSONDocument
        var child: Int
        let end: Int

        package mutating func next() -> JSONValue? {
            guard child < end else { return nil }
            let value = JSONValue(document: document, index: child)
            child = Int(document.nodes[child].next)
            return value
        }
    }
}
