/// A parsed request head. Headers stay an ordered list, not a dictionary, because
/// repeated fields are legal and their order can matter.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    public var target: String
    public var version: String
    public var headers: [(name: String, value: String)]

    public init(method: String, target: String, version: String = "HTTP/1.1", headers: [(name: String, value: String)]) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The first value of a field, matched case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { HTTPASCII.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Every value of a field, in order: list-valued fields such as `Connection` may be split over several lines.
    public func headers(named name: String) -> [String] {
        headers.filter { HTTPASCII.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    public var path: String {
        String(target.prefix { $0 != "?" })
    }

    public var query: String? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: mark)...])
    }

    public static func == (lhs: HTTPRequestHead, rhs: HTTPRequestHead) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.version == rhs.version
            && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
