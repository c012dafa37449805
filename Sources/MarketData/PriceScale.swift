/// Powers of ten from a table rather than `pow`, so conversions are exact for
/// every exponent the wire can express and identical on every platform.
public enum PriceScale {
    private static let positive: [Double] = [
        1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        1e16, 1e17, 1e18,
    ]

    /// 10^exponent for |exponent| ≤ 18 (the range an Int64 mantissa can use).
    public static func powerOfTen(_ exponent: Int) -> Double {
        precondition(abs(exponent) <= 18, "price exponent out of range: \(exponent)")
        return exponent >= 0 ? positive[exponent] : 1 / positive[-exponent]
    }

    /// Mantissa back to a decimal price, for display and tests only.
    public static func price(mantissa: Int64, exponent: Int8) -> Double {
        let e = Int(exponent)
        // Dividing by an exact power of ten is more accurate than multiplying
        // by its inexact reciprocal.
        return e >= 0 ? Double(mantissa) * positive[e] : Double(mantissa) / positive[-e]
    }
}
