/// A message head that can be built from its first line and header fields.
public protocol HTTPHead: Sendable {
    /// How the first line is checked while it is still arriving.
    static var startLineScreen: HTTPStartLineScreen { get }
    static func make(firstLine: String, fields: [(name: String, value: String)]) -> Result<Self, HTTPError>
}

/// Incremental parser for an HTTP/1.1 head (a request or a response, by `Head`).
/// Memory is bounded by `maxHeaderBytes` however the input is split. `consumed`
/// counts the bytes of the last `append` that belong to the head, so the caller
/// keeps the rest (e.g. a first WebSocket frame that arrived in the same read).
public struct HTTPHeadParser<Head: HTTPHead>: Sendable {
    public enum Result: Sendable {
        case needMore
        case complete(Head, consumed: Int)
        case failed(HTTPError)
    }

    private var reader: HTTPHeadReader
    /// Set once the head is complete or failed; later appends repeat it (with nothing consumed).
    private var finished: Result?

    /// 8 KiB and 100 fields: far above what browsers send for an upgrade, small enough that
    /// thousands of connections stuck mid-handshake cost little memory.
    public init(maxHeaderBytes: Int = 8192, maxHeaderCount: Int = 100) {
        reader = HTTPHeadReader(
            maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount, screen: Head.startLineScreen)
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
        case .complete(let firstLine, let fields, let consumed):
            switch Head.make(firstLine: firstLine, fields: fields) {
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
}

/// Requests announcing a body are refused (400): no route here accepts one, and leaving
/// an unread body in the stream would make its bytes look like WebSocket frames.
public typealias HTTPRequestParser = HTTPHeadParser<HTTPRequestHead>

/// The server's answer to an upgrade request; same limits and `consumed` contract.
public typealias HTTPResponseParser = HTTPHeadParser<HTTPResponseHead>

extension HTTPRequestHead: HTTPHead {
    /// Non-HTTP bytes (a TLS ClientHello on the plain port) fail on their first byte.
    public static var startLineScreen: HTTPStartLineScreen { .requestLine }

    /// `METHOD SP target SP HTTP/1.1` (or `HTTP/1.0`); a head announcing a body is refused.
    /// Host follows RFC 9112 §3.2: an HTTP/1.1 request without one, or any request with
    /// more than one, is a 400. HTTP/1.0 predates Host, so there it may be absent; 1.0 is
    /// served on the plain routes only (the WebSocket handshake requires 1.1).
    public static func make(firstLine startLine: String, fields: [(name: String, value: String)]) -> Result<HTTPRequestHead, HTTPError> {
        let parts = startLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].utf8.allSatisfy(HTTPASCII.isTokenChar),
            !parts[1].isEmpty
        else {
            return .failure(HTTPError(status: 400, reason: "malformed request line"))
        }
        guard parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else {
            return .failure(HTTPError(status: 400, reason: "only HTTP/1.1 and HTTP/1.0 are supported"))
        }
        let head = HTTPRequestHead(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]), headers: fields)
        let hosts = head.headers(named: "Host").count
        if hosts > 1 {
            return .failure(HTTPError(status: 400, reason: "more than one Host header"))
        }
        if hosts == 0 && head.version == "HTTP/1.1" {
            return .failure(HTTPError(status: 400, reason: "an HTTP/1.1 request needs a Host header"))
        }
        if !head.headers(named: "Transfer-Encoding").isEmpty {
            return .failure(HTTPError(status: 400, reason: "request body not allowed"))
        }
        if head.headers(named: "Content-Length").contains(where: { $0 != "0" }) {
            return .failure(HTTPError(status: 400, reason: "request body not allowed"))
        }
        return .success(head)
    }
}

extension HTTPResponseHead: HTTPHead {
    public static var startLineScreen: HTTPStartLineScreen { .none }

    /// `HTTP/1.1 SP 3DIGIT SP reason`; the reason may be empty or contain spaces.
    public static func make(firstLine statusLine: String, fields: [(name: String, value: String)]) -> Result<HTTPResponseHead, HTTPError> {
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", parts[1].utf8.count == 3,
            parts[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let status = Int(parts[1])
        else { return .failure(HTTPError(status: 400, reason: "malformed status line")) }
        let reason = parts.count == 3 ? String(parts[2]) : ""
        return .success(HTTPResponseHead(version: String(parts[0]), status: status, reason: reason, headers: fields))
    }
}
