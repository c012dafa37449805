/// The part of HTTP/1.1 head parsing shared by requests and responses: buffering up to
/// the blank line within a byte budget, then splitting start line and header fields.
///
/// Bare LF line endings are rejected (400) rather than tolerated: RFC 9112 §2.2 allows
/// accepting them, but peers that disagree on line endings are a request-smuggling
/// vector, and no WebSocket client needs them. Obsolete line folding is rejected for the same reason.
struct HTTPHeadReader: Sendable {
    enum Outcome: Sendable {
        case needMore
        /// `consumed` counts bytes of the last `append` that belong to the head.
        case complete(startLine: String, fields: [(name: String, value: String)], consumed: Int)
        case failed(HTTPError)
    }

    private let maxHeaderBytes: Int
    private let maxHeaderCount: Int
    private var screen: HTTPStartLineScreen
    private var bytes: [UInt8] = []
    /// Where the terminator search resumes, so a trickled head is scanned once in total.
    private var scanned = 0

    init(maxHeaderBytes: Int, maxHeaderCount: Int, screen: HTTPStartLineScreen = .none) {
        self.maxHeaderBytes = max(4, maxHeaderBytes)
        self.maxHeaderCount = maxHeaderCount
        self.screen = screen
    }

    mutating func append(_ input: UnsafeRawBufferPointer) -> Outcome {
        let before = bytes.count
        // Never buffer beyond the budget, whatever the size of one read.
        let take = min(input.count, maxHeaderBytes - before)
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[..<take]))
        while scanned < bytes.count {
            let index = scanned
            scanned += 1
            if !screen.isFinished && !screen.accept(bytes[index]) {
                return .failed(HTTPError(status: 400, reason: "malformed start line"))
            }
            guard bytes[index] == UInt8(ascii: "\n") else { continue }
            guard index > 0, bytes[index - 1] == UInt8(ascii: "\r") else {
                return .failed(HTTPError(status: 400, reason: "bare LF in request head"))
            }
            if index >= 3, bytes[index - 2] == UInt8(ascii: "\n") {
                return split(headLength: index + 1, consumed: index + 1 - before)
            }
        }
        if bytes.count >= maxHeaderBytes {
            return .failed(HTTPError(status: 431, reason: "header block too large"))
        }
        return .needMore
    }

    private func split(headLength: Int, consumed: Int) -> Outcome {
        // Lines without their CRLF; the last two entries are the empty line and the remainder.
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index + 1 < headLength {
            if bytes[index] == UInt8(ascii: "\r") && bytes[index + 1] == UInt8(ascii: "\n") {
                lines.append(bytes[start..<index])
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        guard let startLine = lines.first, !startLine.isEmpty, lines.last?.isEmpty == true else {
            return .failed(HTTPError(status: 400, reason: "malformed start line"))
        }
        let fieldLines = lines.dropFirst().dropLast()
        if fieldLines.count > maxHeaderCount {
            return .failed(HTTPError(status: 431, reason: "too many header fields"))
        }
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(fieldLines.count)
        for line in fieldLines {
            guard let field = Self.parseField(line) else {
                return .failed(HTTPError(status: 400, reason: "malformed header field"))
            }
            fields.append(field)
        }
        guard !startLine.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            return .failed(HTTPError(status: 400, reason: "malformed start line"))
        }
        return .complete(startLine: String(decoding: startLine, as: UTF8.self), fields: fields, consumed: consumed)
    }

    /// `name ":" OWS value OWS` (RFC 9112 §5): no space before the colon, no folding,
    /// no control characters other than HTAB in the value.
    private static func parseField(_ line: ArraySlice<UInt8>) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { return nil }
        let name = line[line.startIndex..<colon]
        guard name.allSatisfy(HTTPASCII.isTokenChar) else { return nil }
        var value = line[(colon + 1)...]
        while let first = value.first, HTTPASCII.isWhitespace(first) { value = value.dropFirst() }
        while let last = value.last, HTTPASCII.isWhitespace(last) { value = value.dropLast() }
        guard !value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else { return nil }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}
