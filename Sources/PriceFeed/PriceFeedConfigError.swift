/// Configuration rejected by `PriceFeed.init`.
public enum PriceFeedConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case meanIntervalOutOfRange(Double)

    public var description: String {
        switch self {
        case .meanIntervalOutOfRange(let value):
            let range = PriceFeedConfig.meanIntervalRange
            return "meanIntervalMs \(value) is outside \(range.lowerBound)...\(range.upperBound)"
        }
    }
}
