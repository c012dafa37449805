import MarketData

/// What the scale-out links need from the node they serve, and no more.
/// TickerServer imports this module (its config names `RedisURL` and
/// `TickStreamLayout`, and it starts the links), so this module cannot import
/// TickerServer: the node hands itself in through this seam instead.
public protocol ScaleOutNode: AnyObject, Sendable {
    /// Symbols of the node's universe (ids `0..<symbolCount`).
    var symbolCount: Int { get }
    /// The feed run clients' `welcome` and resume name.
    var epoch: UInt64 { get }
    /// A gateway follows a restarted feed: `welcome` and resume name `epoch` from now on.
    func adoptEpoch(_ epoch: UInt64)
    /// Encodes `ticks` once and hands them to every loop, as the node's own feed does.
    func publish(_ ticks: [Tick])
    /// One line to the node's log.
    func log(_ level: ScaleOutLogLevel, _ message: String)
}

public enum ScaleOutLogLevel: Sendable {
    case info, error
}

/// What `/healthz` and `/metrics` learn from a node's Redis link.
public protocol RedisLinkStatus: Sendable {
    func degradedReason() -> String?
    /// The link's metrics; the node renders them (Prometheus text).
    func metrics() -> [LinkMetric]
}

/// One counter or gauge of a Redis link.
public struct LinkMetric: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case counter, gauge
    }
    public var name: String
    public var help: String
    public var kind: Kind
    public var value: String

    public static func counter(_ name: String, _ help: String, _ value: UInt64) -> LinkMetric {
        LinkMetric(name: name, help: help, kind: .counter, value: String(value))
    }

    public static func gauge(_ name: String, _ help: String, _ value: some CustomStringConvertible) -> LinkMetric {
        LinkMetric(name: name, help: help, kind: .gauge, value: value.description)
    }
}

public enum ScaleOutError: Error, Equatable, CustomStringConvertible {
    /// The link's own event loop or timer could not start.
    case loop(String)
    /// Redis did not answer as a gateway needs (the feed's epoch at start).
    case redis(String)

    public var description: String {
        switch self {
        case .loop(let why), .redis(let why): why
        }
    }
}
