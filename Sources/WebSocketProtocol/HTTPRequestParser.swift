/// Incremental parser for an HTTP/1.1 request head, as sent to open a WebSocket.
/// Memory is bounded by `maxHeaderBytes` however the input is split.
///
/// Requests announcing a body are refused (400): no route here accepts one, and leaving
/// an unread body in the stream would make its bytes look like WebSocket frames.
public struct HTTPRequestParser: Sendable {
    public enum Result: Sendable {
        case needMore
        case complete(HTTPRequestHead, consumed: Int)
        case failed(HTTPError)
    }

    private var reader: HTTPHeadReader
    /// Set once the head is complete or failed; later appends repeat it (with nothing consumed).
    private var finished: Result?

    /// 8 KiB and 100 fields: far above what browsers send for an upgrade, small enough that
    /// thousands of connections stuck mid-handshake cost little memory.
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
        case .complete(let startLine, let fields, let consumed):
            switch Self.makeHead(startLine: startLine, fields: fields) {
            case .success(let head): result = .complete(head, consumed: consumed)
            case .failure(let error): result = .failed(error)
            }
        }
        finished = result
        return result
    }

    public mutating func append(_ bytes: [UInt8]) -> Result {
        bytes.withUnsafeBytes { append($0) }
    }

    private static func makeHead(startLine: String, fields: [(name: String, value: String)]) -> Swift.Result<HTTPRequestHead, HTTPError> {
        let parts = startLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].utf8.allSatisfy(HTTPASCII.isTokenChar),
            !parts[1].isEmpty
        else {
            return .failure(HTTPError(status: 400, reason: "malformed request line"))
        }
        guard parts[2] == "HTTP/1.1" else {
            return .failure(HTTPError(status: 400, reason: "only HTTP/1.1 is supported"))
        }
        let head = HTTPRequestHead(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]), headers: fields)
        if !head.headers(named: "Transfer-Encoding").isEmpty {
            return .failure(HTTPError(status: 400, reason: "request body not allowed"))
        }
        if head.headers(named: "Content-Length").contains(where: { $0 != "0" }) {
            return .failure(HTTPError(status: 400, reason: "request body not allowed"))
        }
        return .success(head)
    }
}
