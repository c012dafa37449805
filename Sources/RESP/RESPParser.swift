/// Incremental RESP2/RESP3 parser: bytes in (any split), complete values out. Sans-IO,
/// a value type so a connection owns it without locks and tests feed it any chunking.
///
/// Aggregates are built on an explicit stack, not by recursion, so nesting depth is a
/// limit we check rather than a stack overflow, and a reply arriving a byte at a time
/// never re-parses what it already has: each item (line, or line plus bulk payload) is
/// consumed once complete, and only the current item is ever waited on. After `next()`
/// answers nil, the buffer holds at most one incomplete item: a partial line
/// (≤ `maxLineLength` + 2 bytes) or one bulk header and its partial payload.
///
/// RESP3 attributes (`|`) are parsed and dropped: they annotate the value that follows
/// and no command we send asks for them.
public struct RESPParser: Sendable {
    enum AggregateKind: Sendable { case array, set, push, map, attribute }

    struct Partial: Sendable {
        var kind: AggregateKind
        /// Elements still expected (a map's pairs count as two each).
        var remaining: Int
        var elements: [RESPValue]

        func build() -> RESPValue {
            switch kind {
            case .array: return .array(elements)
            case .set: return .set(elements)
            case .push: return .push(elements)
            case .map, .attribute:
                return .map(stride(from: 0, to: elements.count, by: 2).map {
                    RESPPair(key: elements[$0], value: elements[$0 + 1])
                })
            }
        }
    }

    /// What one consumed item contributes.
    enum Item { case value(RESPValue), open(AggregateKind, Int) }

    public let limits: RESPLimits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the search for the current line's CR resumes, so a long line arriving in
    /// small pieces is scanned once.
    private var scanIndex = 0
    private var stack: [Partial] = []
    /// Wire bytes of the top-level value under construction.
    private var valueBytes = 0
    private var failure: RESPError?

    private static let retainedCapacity = 64 * 1024

    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// True when a value has started but not completed (an aggregate is open or bytes
    /// of an item are buffered).
    public var isMidValue: Bool { !stack.isEmpty || bufferedByteCount > 0 }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if failure != nil { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Drops everything buffered and any half-built value (after a disconnect).
    public mutating func reset() {
        buffer = []
        readIndex = 0
        scanIndex = 0
        stack = []
        valueBytes = 0
        failure = nil
    }

    /// The next complete top-level value, or nil when more bytes are needed.
    public mutating func next() throws(RESPError) -> RESPValue? {
        if let failure { throw failure }
        while true {
            let item: Item?
            do {
                item = try readItem()
            } catch {
                fail(error)
                throw error
            }
            guard let item else { return nil }
            switch item {
            case .value(let value):
                if let done = complete(value) { return done }
            case .open(let kind, let count):
                if stack.count >= limits.maxDepth {
                    fail(.nestingTooDeep)
                    throw .nestingTooDeep
                }
                if count == 0 {
                    if let done = complete(Partial(kind: kind, remaining: 0, elements: []).build(), kind: kind) {
                        return done
                    }
                } else {
                    var elements: [RESPValue] = []
                    // A declared count reserves only what a few KiB of input could fill.
                    elements.reserveCapacity(min(count, 64))
                    stack.append(Partial(kind: kind, remaining: count, elements: elements))
                }
            }
        }
    }

    /// Adds a finished value to the open aggregate; returns a finished top-level value.
    private mutating func complete(_ finished: RESPValue, kind finishedKind: AggregateKind? = nil) -> RESPValue? {
        var value = finished
        var kind = finishedKind
        while true {
            if kind == .attribute {
                // An attribute annotates what follows; it is not an element of its parent.
                if stack.isEmpty { valueBytes = 0 }
                return nil
            }
            guard var top = stack.popLast() else {
                valueBytes = 0
                return value
            }
            top.elements.append(value)
            top.remaining -= 1
            if top.remaining > 0 {
                stack.append(top)
                return nil
            }
            value = top.build()
            kind = top.kind
        }
    }

    private mutating func fail(_ error: RESPError) {
        failure = error
        buffer = []
        readIndex = 0
        scanIndex = 0
        stack = []
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
        } else {
            buffer.removeSubrange(0..<readIndex)
        }
        scanIndex -= readIndex
        readIndex = 0
    }

    private mutating func consume(_ count: Int) throws(RESPError) {
        valueBytes += count
        if valueBytes > limits.maxValueBytes { throw .valueTooLarge }
        readIndex += count
        scanIndex = readIndex
    }

    /// Finds the CRLF ending the line that starts at `readIndex`; returns the index of
    /// its CR, or nil when it has not arrived. Errors depend only on the bytes so far, in
    /// order, so any split of the input meets the same error at the same byte.
    private mutating func findLineEnd() throws(RESPError) -> Int? {
        // The latest index the CR may sit at: `maxLineLength` content bytes after the type.
        let lastCR = readIndex + 1 + limits.maxLineLength
        var i = max(scanIndex, readIndex + 1)
        let end = buffer.count
        while i < end {
            let byte = buffer[i]
            if i > lastCR || (i == lastCR && byte != 0x0D) { throw .lineTooLong }
            if byte == 0x0D {
                guard i + 1 < end else { break }
                guard buffer[i + 1] == 0x0A else { throw .badLineEnding }
                return i
            }
            if byte == 0x0A { throw .badLineEnding }
            i += 1
        }
        scanIndex = i
        return nil
    }

    private mutating func readItem() throws(RESPError) -> Item? {
        guard bufferedByteCount > 0 else { return nil }
        let type = buffer[readIndex]
        // Reject an unknown type byte at once rather than after its line.
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"),
             UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "!"),
             UInt8(ascii: "="), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            break
        default:
            throw .unknownType(type)
        }
        guard let cr = try findLineEnd() else { return nil }
        let lineStart = readIndex + 1
        let line = lineStart..<cr
        let headerSize = cr + 2 - readIndex

        switch type {
        case UInt8(ascii: "+"):
            let text = string(line)
            try consume(headerSize)
            return .value(.simpleString(text))
        case UInt8(ascii: "-"):
            let text = string(line)
            try consume(headerSize)
            return .value(.error(text))
        case UInt8(ascii: ":"):
            let number = try integer(line)
            try consume(headerSize)
            return .value(.integer(number))
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw .malformed }
            try consume(headerSize)
            return .value(.null)
        case UInt8(ascii: "#"):
            guard line.count == 1 else { throw .invalidBoolean }
            let flag: Bool
            switch buffer[lineStart] {
            case UInt8(ascii: "t"): flag = true
            case UInt8(ascii: "f"): flag = false
            default: throw .invalidBoolean
            }
            try consume(headerSize)
            return .value(.boolean(flag))
        case UInt8(ascii: ","):
            let number = try double(line)
            try consume(headerSize)
            return .value(.double(number))
        case UInt8(ascii: "("):
            try checkBigNumber(line)
            let text = string(line)
            try consume(headerSize)
            return .value(.bigNumber(text))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            if line.count == 1 && buffer[lineStart] == UInt8(ascii: "?") { throw .streamedTypeUnsupported }
            let declared = try length(line)
            if declared == -1 {
                guard type == UInt8(ascii: "$") else { throw .invalidLength }
                try consume(headerSize)
                return .value(.null)
            }
            if declared > Int64(limits.maxBulkLength) { throw .bulkTooLong(declared) }
            let count = Int(declared)
            if valueBytes + headerSize + count + 2 > limits.maxValueBytes { throw .valueTooLarge }
            let payloadStart = cr + 2
            // The header is complete; wait for the payload without rescanning it.
            scanIndex = readIndex
            guard buffer.count - payloadStart >= count + 2 else { return nil }
            guard buffer[payloadStart + count] == 0x0D, buffer[payloadStart + count + 1] == 0x0A else {
                throw .badLineEnding
            }
            let payload = Array(buffer[payloadStart..<(payloadStart + count)])
            try consume(headerSize + count + 2)
            switch type {
            case UInt8(ascii: "$"): return .value(.bulkString(payload))
            case UInt8(ascii: "!"): return .value(.bulkError(payload))
            default:
                // The format is three printable ASCII letters (`txt`, `mkd`), then a colon.
                guard payload.count >= 4, payload[3] == UInt8(ascii: ":"),
                      payload[0..<3].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .malformed }
                return .value(.verbatim(format: String(decoding: payload[0..<3], as: UTF8.self),
                                        text: Array(payload[4...])))
            }
        default:
            // Aggregates: * ~ > % |
            if line.count == 1 && buffer[lineStart] == UInt8(ascii: "?") { throw .streamedTypeUnsupported }
            let declared = try length(line)
            if declared == -1 {
                guard type == UInt8(ascii: "*") else { throw .invalidLength }
                try consume(headerSize)
                return .value(.null)
            }
            let isPairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            let limit = Int64(isPairs ? limits.maxAggregateCount / 2 : limits.maxAggregateCount)
            if declared > limit { throw .aggregateTooLarge(declared) }
            let count = Int(declared) * (isPairs ? 2 : 1)
            try consume(headerSize)
            let kind: AggregateKind
            switch type {
            case UInt8(ascii: "*"): kind = .array
            case UInt8(ascii: "~"): kind = .set
            case UInt8(ascii: ">"): kind = .push
            case UInt8(ascii: "%"): kind = .map
            default: kind = .attribute
            }
            return .open(kind, count)
        }
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: buffer[range], as: UTF8.self)
    }

    /// A signed decimal Int64: optional '-', then 1...19 digits, no overflow.
    private func integer(_ range: Range<Int>) throws(RESPError) -> Int64 {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound && buffer[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < range.upperBound else { throw .invalidInteger }
        // Accumulate negatively so Int64.min parses.
        var value: Int64 = 0
        while i < range.upperBound {
            let byte = buffer[i]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw .invalidInteger }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if o1 || o2 { throw .invalidInteger }
            value = next
            i += 1
        }
        if negative { return value }
        guard value != Int64.min else { throw .invalidInteger }
        return -value
    }

    /// A length or count: -1 (null) or 0...Int64.max.
    private func length(_ range: Range<Int>) throws(RESPError) -> Int64 {
        let value: Int64
        do { value = try integer(range) } catch { throw .invalidLength }
        guard value >= -1 else { throw .invalidLength }
        return value
    }

    private func double(_ range: Range<Int>) throws(RESPError) -> Double {
        // RESP3 spells infinities `inf` / `-inf` and NaN `nan`; anything else is decimal.
        guard !range.isEmpty, range.count <= 512 else { throw .invalidDouble }
        for i in range {
            let byte = buffer[i]
            let allowed = (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
                || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "i") || byte == UInt8(ascii: "n")
                || byte == UInt8(ascii: "f") || byte == UInt8(ascii: "a")
            guard allowed else { throw .invalidDouble }
        }
        let text = string(range)
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default:
            guard text.first != "i", text.first != "n", !text.contains("n"), !text.contains("i"),
                  let value = Double(text), value.isFinite else { throw .invalidDouble }
            return value
        }
    }

    private func checkBigNumber(_ range: Range<Int>) throws(RESPError) {
        var i = range.lowerBound
        if i < range.upperBound && (buffer[i] == UInt8(ascii: "-") || buffer[i] == UInt8(ascii: "+")) { i += 1 }
        guard i < range.upperBound else { throw .invalidBigNumber }
        while i < range.upperBound {
            guard buffer[i] >= UInt8(ascii: "0") && buffer[i] <= UInt8(ascii: "9") else { throw .invalidBigNumber }
            i += 1
        }
    }
}
