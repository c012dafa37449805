/// Why a request head was refused, as the status to answer with. The reason is short
/// human text for the response body, never echoing attacker-supplied bytes.
public struct HTTPError: Error, Equatable, Sendable {
    public var status: Int
    public var reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }
}
