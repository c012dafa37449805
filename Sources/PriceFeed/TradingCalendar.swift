/// Volatilities are quoted per trading year, so a wall-clock gap is converted
/// with the trading-time convention: 252 sessions of 6.5 hours. The simulator
/// treats every wall-clock second as a trading second (the market never
/// closes), which keeps intraday moves at realistic sizes.
enum TradingCalendar {
    static let secondsPerTradingYear = 252 * 6.5 * 3600

    static func years(nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1e9 / secondsPerTradingYear
    }
}
