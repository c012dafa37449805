/// Where a client stands in one symbol's stream: the last sequence it saw
/// (0: it saw none, so everything from sequence 1 is wanted).
public struct ResumePoint: Equatable, Sendable {
    public var symbol: String
    public var sequence: UInt64

    public init(symbol: String, sequence: UInt64) {
        self.symbol = symbol
        self.sequence = sequence
    }
}

/// The `from` (and `epoch`) of a `subscribe`: the client asks for the
/// updates after these sequences instead of a snapshot.
public struct ResumeRequest: Equatable, Sendable {
    /// In the order the client wrote them.
    public var points: [ResumePoint]
    /// The `epoch` of the `welcome` these sequences were read under; a
    /// different epoch means another sequence space (a restarted server),
    /// so every symbol is reset. nil: the client does not say (not checked).
    public var epoch: UInt64?

    public init(points: [ResumePoint], epoch: UInt64? = nil) {
        self.points = points
        self.epoch = epoch
    }

    /// Largest sequence a client may name: the protocol's sequence space ends
    /// at 2^53 (exact in an IEEE-754 double, so JavaScript can send it).
    public static let maxSequence: UInt64 = 1 << 53
}

/// What the server did with a `from`: for each symbol it named, either the
/// retained updates after that sequence follow (`resumed`) or a snapshot
/// does, which resets the client's baseline (`reset`).
public struct ResumeReport: Equatable, Sendable {
    public var resumed: [String]
    public var reset: [String]

    public init(resumed: [String] = [], reset: [String] = []) {
        self.resumed = resumed
        self.reset = reset
    }
}
