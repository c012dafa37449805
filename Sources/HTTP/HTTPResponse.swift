/// A response to serialize: the 101 upgrade or a refusal. Only what the upgrade path
/// needs, not a general HTTP server type.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Unknown"
        }
    }

    /// Adds `Content-Length` (unless present, or the status is 101, where the connection
    /// switches protocols and no body follows) so the peer never has to read to EOF.
    /// `includeBody: false` answers a HEAD request (RFC 9110 §9.3.2): the same status and
    /// headers as the GET, `Content-Length` included, and no body bytes.
    public func serialize(includeBody: Bool = true) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        for (name, value) in headers {
            text += "\(name): \(value)\r\n"
        }
        if status != 101 && !headers.contains(where: { HTTPASCII.equalsIgnoringCase($0.0, "Content-Length") }) {
            text += "Content-Length: \(body.count)\r\n"
        }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if includeBody { bytes.append(contentsOf: body) }
        return bytes
    }
}
