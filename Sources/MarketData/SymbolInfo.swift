/// Static description of one instrument, as loaded from the symbol table.
public struct SymbolInfo: Sendable, Equatable {
    /// Dense index into the table; this is what travels on the wire instead of
    /// the ticker string, so records stay fixed-size.
    public var id: UInt32
    public var symbol: String
    /// Starting price in USD.
    public var price: Double
    /// Annualised volatility as a fraction (0.28 = 28 %).
    public var volatility: Double
    public var tickSize: Double
    /// Typical trade size in shares; sizes are generated as multiples of it.
    public var lotSize: UInt32
    /// Decimal exponent that makes every multiple of `tickSize` an integer
    /// mantissa (0.01 → -2, 0.0001 → -4, 0.05 → -2).
    public var priceExponent: Int8

    /// `priceExponent` defaults to the one derived from `tickSize`; passing it
    /// explicitly exists for tests and for tables that want finer mantissas.
    public init(
        id: UInt32, symbol: String, price: Double, volatility: Double,
        tickSize: Double, lotSize: UInt32, priceExponent: Int8? = nil
    ) {
        self.id = id
        self.symbol = symbol
        self.price = price
        self.volatility = volatility
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.priceExponent = priceExponent ?? SymbolInfo.priceExponent(forTickSize: tickSize) ?? -9
    }

    /// Largest number of decimals a tick size may have; beyond that the
    /// mantissa of a realistic price would overflow useful precision anyway.
    public static let maxTickDecimals = 9

    /// The exponent is the number of decimals the tick size needs; `nil` when
    /// the tick size is not positive or needs more than `maxTickDecimals`.
    public static func priceExponent(forTickSize tickSize: Double) -> Int8? {
        guard tickSize.isFinite, tickSize > 0 else { return nil }
        var scale = 1.0
        for decimals in 0...maxTickDecimals {
            let scaled = tickSize * scale
            // Relative tolerance: 0.0001 * 10_000 is 0.9999999999999999 in binary.
            if abs(scaled - scaled.rounded()) <= 1e-9 * max(1, scaled), scaled.rounded() >= 1 {
                return Int8(-decimals)
            }
            scale *= 10
        }
        return nil
    }

    /// The tick size expressed in mantissa units (0.05 at exponent -2 → 5).
    public var tickMantissa: Int64 {
        Int64((tickSize * PriceScale.powerOfTen(-Int(priceExponent))).rounded())
    }

    /// Converts a decimal price to this symbol's mantissa, rounding to nearest.
    public func mantissa(of price: Double) -> Int64 {
        Int64((price * PriceScale.powerOfTen(-Int(priceExponent))).rounded())
    }
}
