/// A parsed response head, as the client side of the upgrade receives it.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: String
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]

    public init(version: String = "HTTP/1.1", status: Int, reason: String, headers: [(name: String, value: String)]) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    public func header(_ name: String) -> String? {
        headers.first { HTTPASCII.equalsIgnoringCase($0.name, name) }?.value
    }

    public func headers(named name: String) -> [String] {
        headers.filter { HTTPASCII.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    public static func == (lhs: HTTPResponseHead, rhs: HTTPResponseHead) -> Bool {
        lhs.version == rhs.version && lhs.status == rhs.status && lhs.reason == rhs.reason
            && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
