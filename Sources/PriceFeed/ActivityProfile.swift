/// How much more often a symbol ticks than the average one. Real markets are
/// skewed: mega caps print far more often than the long tail. The table is
/// taken to list symbols in descending liquidity (as Sources/TickerServer/Universe/symbols.csv
/// does: large caps first), so the weight falls linearly with the id from
/// 1.25 to 0.75. The weights average exactly 1, so the aggregate rate is
/// `count / meanInterval` whatever the table size, and the skew stays mild
/// (±25 %) so no symbol looks frozen.
enum ActivityProfile {
    static let spread = 0.25

    static func weight(rank: Int, count: Int) -> Double {
        guard count > 1 else { return 1 }
        return 1 + spread - 2 * spread * Double(rank) / Double(count - 1)
    }
}
