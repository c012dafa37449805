/// A JSON reader for control messages, built for hostile input.
///
/// The Codable path it replaces re-decoded every subtree once per candidate
/// type at every level, so its cost grew with the cube of the nesting depth:
/// ten 500-deep arrays in one 10 KB `ping` held an event loop for 29 s. Here:
/// - one pass, no backtracking: every byte is examined a small constant
///   number of times (`work` counts the examinations so tests can check it);
/// - nesting is checked against `maxDepth` before descending, so the
///   recursion is at most `maxDepth` deep;
/// - the result is a tape (`JSONDocument`): one growing array, not an
///   allocation per value;
/// - a repeated member name in any object is an error, not a silent
///   first-wins. Names are compared as bytes, never as `String` (see
///   `JSONObject`): pairwise while an object has up to `smallObject` members,
///   then through one hash table for the whole document, keyed by object and
///   name (randomly seeded `Hasher`, so a client cannot aim for collisions;
///   nothing to clear between objects);
/// - UTF-8 is validated once for the whole input and escapes decode to
///   valid scalars (lone surrogates are refused), so strings need no repair.
/// Strict RFC 8259 otherwise: no comments, no trailing commas, no leading
/// zeros, no bare control characters in strings.
package struct JSONParser {
    package enum Failure: Error, Equatable {
        /// Not JSON; `offset` is the byte where reading stopped.
        case syntax(offset: Int)
        case tooDeep(limit: Int)
        case duplicateName([UInt8])
    }

    /// Up to this many members, a new name is compared with each earlier one
    /// (at most 7 comparisons, cheaper than hashing); beyond, names are hashed.
    static let smallObject = 8

    /// Parses one complete value (whitespace allowed around it, nothing else).
    /// `work` receives the number of byte examinations.
    static func parse(_ bytes: [UInt8], maxDepth: Int, work: inout Int) throws(Failure) -> JSONDocument {
        // Node offsets are 32-bit; control messages are at most 64 KiB.
        guard bytes.count < Int32.max, String(validating: bytes, as: UTF8.self) != nil else {
            throw .syntax(offset: 0)
        }
        // The tape's size is known up front: with C containers (2 bytes each,
        // open and close) and K other values (1 byte or more), the N - 1
        // non-root values each follow a `[`/`{` (at most C of them do) or a
        // `,`/`:`, so bytes ≥ 2C + K + (N - 1 - C) = 2N - 1. One allocation of
        // (bytes + 1) / 2 nodes: no regrowth copies, pages a short message
        // never reaches are never touched, and the tape is written through a
        // pointer. The bound holds for complete documents only: a truncated
        // one can open a container per byte (`[[[[`), so a full tape means
        // the input is not JSON (see `append`).
        let capacity = (bytes.count + 1) / 2 + 1
        var failure: Failure?
        let nodes = bytes.withUnsafeBufferPointer { input in
            [JSONNode](unsafeUninitializedCapacity: capacity) { tape, initialized in
                var parser = JSONParser(input: input, tape: tape, maxDepth: maxDepth)
                do throws(Failure) {
                    parser.skipWhitespace()
                    try parser.parseValue()
                    parser.skipWhitespace()
                    if parser.offset != input.count { throw .syntax(offset: parser.offset) }
                } catch {
                    failure = error
                }
                work = parser.work
                initialized = parser.count
            }
        }
        if let failure { throw failure }
        return JSONDocument(bytes: bytes, nodes: nodes)
    }

    static func parse(_ bytes: [UInt8], maxDepth: Int) throws(Failure) -> JSONDocument {
        var work = 0
        return try parse(bytes, maxDepth: maxDepth, work: &work)
    }

    private let input: UnsafeBufferPointer<UInt8>
    /// Nodes `0..<count` are initialized (a trivial type: nothing to deinitialize).
    private let nodes: UnsafeMutableBufferPointer<JSONNode>
    private var count = 0
    private let maxDepth: Int
    private var offset = 0
    private var depth = 0
    private var work = 0
    /// Hash of (object node index, name) → name node index, for objects past `smallObject`.
    private var names: [Int: Int32] = [:]
    /// The decoded bytes of the string just read; reused, so reading allocates nothing.
    private var scratch: [UInt8] = []
    /// An earlier name, decoded, when it has escapes; reused likewise.
    private var earlier: [UInt8] = []
    /// Name hashes of the first `smallObject` members of the object open at each depth.
    private var smallHashes: [UInt64]

    private init(input: UnsafeBufferPointer<UInt8>, tape: UnsafeMutableBufferPointer<JSONNode>, maxDepth: Int) {
        self.input = input
        self.nodes = tape
        self.maxDepth = maxDepth
        self.smallHashes = Array(repeating: 0, count: maxDepth * Self.smallObject)
    }

    /// Returns the new node's index. A valid document fits the tape (see
    /// `parse`), so one that does not fit is a syntax error, found here
    /// before the end of the input says so.
    @discardableResult
    private mutating func append(_ node: JSONNode) throws(Failure) -> Int {
        guard count < nodes.count else { throw .syntax(offset: offset) }
        nodes.initializeElement(at: count, to: node)
        count += 1
        return count - 1
    }

    // MARK: - Bytes

    private mutating func peek() -> UInt8? {
        work += 1
        return offset < input.count ? input[offset] : nil
    }

    /// Consumes `byte` if it is next.
    private mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        offset += 1
        return true
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard consume(byte) else { throw .syntax(offset: offset) }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            offset += 1
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Values

    /// Appends the value's nodes and sets its `next`.
    private mutating func parseValue() throws(Failure) {
        guard let byte = peek() else { throw .syntax(offset: offset) }
        let index = count
        let start = Int32(offset)
        switch byte {
        case UInt8(ascii: "{"): try parseObject()
        case UInt8(ascii: "["): try parseArray()
        case UInt8(ascii: "\""): try append(parseString(keepingContent: false))
        case UInt8(ascii: "t"): try expectWord("true"); try append(JSONNode(kind: .true, start: start))
        case UInt8(ascii: "f"): try expectWord("false"); try append(JSONNode(kind: .false, start: start))
        case UInt8(ascii: "n"): try expectWord("null"); try append(JSONNode(kind: .null, start: start))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try append(parseNumber())
        default: throw .syntax(offset: offset)
        }
        nodes[index].next = Int32(count)
    }

    private mutating func expectWord(_ word: StaticString) throws(Failure) {
        let letters = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for letter in letters { try expect(letter) }
    }

    /// Called on the opening bracket; the depth check comes before any descent.
    private mutating func enterContainer(_ kind: JSONNode.Kind) throws(Failure) -> Int {
        guard depth < maxDepth else { throw .tooDeep(limit: maxDepth) }
        depth += 1
        let index = try append(JSONNode(kind: kind, start: Int32(offset)))
        offset += 1
        return index
    }

    private mutating func parseArray() throws(Failure) {
        _ = try enterContainer(.array)
        defer { depth -= 1 }
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return }
        while true {
            skipWhitespace()
            try parseValue()
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return }
            try expect(UInt8(ascii: ","))
        }
    }

    private mutating func parseObject() throws(Failure) {
        let object = try enterContainer(.object)
        defer { depth -= 1 }
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return }
        var count = 0
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw .syntax(offset: offset) }
            let name = try append(parseString(keepingContent: true))
            nodes[name].next = Int32(name + 1)
            count += 1
            // Checked before the value is read, so a repeat fails fast.
            try checkUnique(name, member: count, of: object)
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try parseValue()
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return }
            try expect(UInt8(ascii: ","))
        }
    }

    // MARK: - Member names

    /// `scratch` holds the decoded bytes of node `name`, the `member`th of `object`.
    private mutating func checkUnique(_ name: Int, member: Int, of object: Int) throws(Failure) {
        if member <= Self.smallObject {
            // Pairwise, with a cheap hash to skip decoding names that differ.
            // Unkeyed (FNV-1a): a crafted collision costs at most 7 compares.
            let hash = scratch.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
            let base = (depth - 1) * Self.smallObject
            smallHashes[base + member - 1] = hash
            var child = object + 1
            var earlierMember = 0
            while child < name {
                if smallHashes[base + earlierMember] == hash && hasScratchName(child) { throw .duplicateName(scratch) }
                child = Int(nodes[child + 1].next)
                earlierMember += 1
            }
            return
        }
        if member == Self.smallObject + 1 {
            // Switching to the table: enter the earlier names first.
            var child = object + 1
            while child < name {
                earlier.removeAll(keepingCapacity: true)
                JSONDocument.appendContent(of: nodes[child], in: input, to: &earlier)
                names[Self.hash(earlier, in: object)] = Int32(child)
                child = Int(nodes[child + 1].next)
            }
        }
        let key = Self.hash(scratch, in: object)
        if names[key] == nil {
            names[key] = Int32(name)
            return
        }
        // A repeat, or a true collision (another name, same 64-bit hash): look.
        var child = object + 1
        while child < name {
            if hasScratchName(child) { throw .duplicateName(scratch) }
            child = Int(nodes[child + 1].next)
        }
    }

    private static func hash(_ name: [UInt8], in object: Int) -> Int {
        var hasher = Hasher()
        hasher.combine(object)
        name.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }

    /// Whether name node `child` decodes to the bytes in `scratch`.
    private mutating func hasScratchName(_ child: Int) -> Bool {
        let node = nodes[child]
        if node.kind == .string {
            let bytes = input[Int(node.start)..<Int(node.end)]
            return bytes.count == scratch.count && bytes.elementsEqual(scratch)
        }
        earlier.removeAll(keepingCapacity: true)
        JSONDocument.appendContent(of: node, in: input, to: &earlier)
        return earlier == scratch
    }

    // MARK: - Scalars

    /// Called on the opening quote. With `keepingContent` (names), leaves the
    /// decoded content in `scratch`; values are only checked.
    private mutating func parseString(keepingContent: Bool) throws(Failure) -> JSONNode {
        offset += 1
        let start = offset
        var escaped = false
        var runStart = offset
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard let byte = peek() else { throw .syntax(offset: offset) }
            switch byte {
            case UInt8(ascii: "\""):
                if keepingContent { scratch.append(contentsOf: input[runStart..<offset]) }
                let node = JSONNode(kind: escaped ? .escapedString : .string, start: Int32(start), end: Int32(offset))
                offset += 1
                return node
            case UInt8(ascii: "\\"):
                escaped = true
                if keepingContent { scratch.append(contentsOf: input[runStart..<offset]) }
                offset += 1
                let escapeStart = offset
                guard JSONDocument.decodeEscape(input, at: &offset, into: &scratch) else { throw .syntax(offset: offset) }
                work += offset - escapeStart
                runStart = offset
            case 0..<0x20:
                throw .syntax(offset: offset)
            default:
                offset += 1
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, checked here and
    /// converted only when a decoder reads it (see `JSONValue.integer`): the
    /// conversion is linear but costs ~1 µs a token in the fuzzing build,
    /// and 64 KiB holds 9,000 tokens like `1.5e-3,`.
    private mutating func parseNumber() throws(Failure) -> JSONNode {
        let start = offset
        _ = consume(UInt8(ascii: "-"))
        if !consume(UInt8(ascii: "0")) { try digits() }
        if consume(UInt8(ascii: ".")) { try digits() }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            offset += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { offset += 1 }
            try digits()
        }
        return JSONNode(kind: .number, start: Int32(start), end: Int32(offset))
    }

    /// One or more decimal digits.
    private mutating func digits() throws(Failure) {
        guard let first = peek(), Self.isDigit(first) else { throw .syntax(offset: offset) }
        offset += 1
        while let byte = peek(), Self.isDigit(byte) { offset += 1 }
    }
}
