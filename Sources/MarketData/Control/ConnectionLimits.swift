/// Per-connection limits announced in `welcome`, so a well-behaved client can
/// stay inside them instead of discovering them through errors.
public struct ConnectionLimits: Equatable, Sendable {
    public var maxSymbolsPerConnection: Int
    public var maxMessagesPerSecond: Int
    public var maxMessageBytes: Int

    public init(maxSymbolsPerConnection: Int, maxMessagesPerSecond: Int, maxMessageBytes: Int) {
        self.maxSymbolsPerConnection = maxSymbolsPerConnection
        self.maxMessagesPerSecond = maxMessagesPerSecond
        self.maxMessageBytes = maxMessageBytes
    }
}
