/// Incremental parser for the server's answer to an upgrade request. Same limits and
/// `consumed` contract as `HTTPRequestParser`: bytes after the head are the first frames.
public struct HTTPResponseParser: Sendable {
    public enum Result: Sendable {
        case needMore
        case complete(HTTPResponseHead, consumed: Int)
        case failed(HTTPError)
    }

    private var reader: HTTPHeadReader
    private var finished: Result?

    public init(maxHeaderBytes: Int = 8192, maxHeaderCount: Int = 100) {
        reader = HTTPHeadReader(maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) -> Result {
        if let finished {
            if case .complete(let head, _) = finished { return .complete(head, consumed: 0) }
            return finished
        }
        let result: Result
        switch reader.append(bytes) {
        case .needMore:
            return .needMore
        case .failed(let error):
            result = .failed(error)
        case .complete(let statusLine, let fields, let consumed):
            if let head = Self.makeHead(statusLine: statusLine, fields: fields) {
                result = .complete(head, consumed: consumed)
            } else {
                result = .failed(HTTPError(status: 400, reason: "malformed status line"))
            }
        }
        finished = result
        return result
    }

    public mutating func append(_ bytes: [UInt8]) -> Result {
        bytes.withUnsafeBytes { append($0) }
    }

    /// `HTTP/1.1 SP 3DIGIT SP reason`; the reason may be empty or contain spaces.
    private static func makeHead(statusLine: String, fields: [(name: String, value: String)]) -> HTTPResponseHead? {
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", parts[1].utf8.count == 3,
            parts[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let status = Int(parts[1])
        else { return nil }
        let reason = parts.count == 3 ? String(parts[2]) : ""
        return HTTPResponseHead(version: String(parts[0]), status: status, reason: reason, headers: fields)
    }
}
