/// Tunables of the simulated market. The start time is injected (no default)
/// because the feed never reads a clock itself.
public struct PriceFeedConfig: Sendable, Equatable {
    /// Below 0.1 ms per symbol the server could not keep up anyway; above a
    /// minute the feed would look dead.
    public static let meanIntervalRange: ClosedRange<Double> = 0.1...60_000

    public var seed: UInt64
    /// Mean time between two ticks of ONE symbol, averaged over all symbols.
    public var meanIntervalMs: Double
    /// Nanoseconds since the Unix epoch at which the simulation starts.
    public var startTimeNs: UInt64

    public init(seed: UInt64 = 42, meanIntervalMs: Double = 10, startTimeNs: UInt64) {
        self.seed = seed
        self.meanIntervalMs = meanIntervalMs
        self.startTimeNs = startTimeNs
    }

    public func validate() throws(PriceFeedConfigError) {
        // `contains` is false for NaN, so NaN is rejected too.
        guard Self.meanIntervalRange.contains(meanIntervalMs) else {
            throw .meanIntervalOutOfRange(meanIntervalMs)
        }
    }
}
