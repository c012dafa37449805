import CMath

/// Standard normal variates by the Marsaglia polar method (Marsaglia & Bray
/// 1964): unlike Box-Muller it needs no sin/cos, and it yields two variates
/// per accepted pair, the second cached in `spare`. Deterministic given the
/// wrapped generator, since the rejection loop consumes a fixed sequence.
public struct NormalGenerator<Base: RandomNumberGenerator>: RandomNumberGenerator {
    public var base: Base
    private var spare: Double?

    public init(base: Base) {
        self.base = base
    }

    /// Forwards to the base generator, so uniform draws and normal draws can
    /// share one stream without a second generator.
    public mutating func next() -> UInt64 {
        base.next()
    }

    public mutating func nextStandardNormal() -> Double {
        if let cached = spare {
            spare = nil
            return cached
        }
        while true {
            let u = 2 * base.nextUnitDouble() - 1
            let v = 2 * base.nextUnitDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * ticker_log(s) / s).squareRoot()
                spare = v * factor
                return u * factor
            }
        }
    }
}

extension NormalGenerator: Sendable where Base: Sendable {}
