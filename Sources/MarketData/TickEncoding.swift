/// The encoding of a connection's binary messages, asked for with
/// `?encoding=` on `/v1/stream` and confirmed by `welcome.encoding`
/// (docs/PROTOCOL.md, "Delta encoding").
public enum TickEncoding: String, Sendable, CaseIterable {
    /// v1: 64-byte records (message type 1), what a server sends when asked nothing.
    case raw
    /// Varint records relative to the symbol's previous one (message type 2).
    case delta
}
