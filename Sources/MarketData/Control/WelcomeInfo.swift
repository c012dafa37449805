/// First message on every connection: protocol version and the contract
/// (heartbeat, limits) the client is held to.
public struct WelcomeInfo: Equatable, Sendable {
    public var protocolVersion: Int
    public var server: String
    public var heartbeatMs: Int
    /// Number of symbols in the table (ids are 0..<symbolCount).
    public var symbolCount: Int
    public var limits: ConnectionLimits
    /// Names this server's sequence space: a client that resumes sends it
    /// back with `from`, and a different value (a restarted server) resets
    /// every symbol instead of replaying another stream's sequences. nil in
    /// replies of servers that predate resume.
    public var epoch: UInt64?
    /// The encoding of this connection's binary messages: "raw" or "delta"
    /// (docs/PROTOCOL.md, "Delta encoding"). nil in replies of servers that
    /// predate it: the client decodes raw.
    public var encoding: String?

    public init(
        protocolVersion: Int = 1, server: String = "ticker", heartbeatMs: Int = 15_000,
        symbolCount: Int, limits: ConnectionLimits, epoch: UInt64? = nil,
        encoding: String? = nil
    ) {
        self.encoding = encoding
        self.epoch = epoch
        self.protocolVersion = protocolVersion
        self.server = server
        self.heartbeatMs = heartbeatMs
        self.symbolCount = symbolCount
        self.limits = limits
    }
}
