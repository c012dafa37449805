/// A complete data message, reassembled from its fragments. Text is already validated,
/// hence `String` rather than bytes.
public enum WebSocketMessage: Equatable, Sendable {
    case text(String)
    case binary([UInt8])
}
