/// A server reply the client could not understand. Separate from
/// `ControlError` because it is a local failure, never sent on the wire.
public struct MalformedReply: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "malformed server reply: \(reason)" }
}
