import Testing
@testable import MarketData

@Suite struct SymbolInfoTests {
    @Test func priceExponentFollowsTickSizeDecimals() {
        #expect(SymbolInfo.priceExponent(forTickSize: 1) == 0)
        #expect(SymbolInfo.priceExponent(forTickSize: 5) == 0)
        #expect(SymbolInfo.priceExponent(forTickSize: 0.5) == -1)
        #expect(SymbolInfo.priceExponent(forTickSize: 0.01) == -2)
        #expect(SymbolInfo.priceExponent(forTickSize: 0.05) == -2)
        #expect(SymbolInfo.priceExponent(forTickSize: 0.0001) == -4)
        #expect(SymbolInfo.priceExponent(forTickSize: 0.0000001) == -7)
        #expect(SymbolInfo.priceExponent(forTickSize: 0) == nil)
        #expect(SymbolInfo.priceExponent(forTickSize: -0.01) == nil)
        #expect(SymbolInfo.priceExponent(forTickSize: .nan) == nil)
        #expect(SymbolInfo.priceExponent(forTickSize: 1e-12) == nil)
    }

    @Test func mantissaConversionIsExactForTickMultiples() {
        let info = SymbolInfo(id: 0, symbol: "X", price: 227.5, volatility: 0.2, tickSize: 0.01, lotSize: 100)
        #expect(info.mantissa(of: 227.5) == 22750)
        #expect(info.mantissa(of: 0.29) == 29)
        #expect(PriceScale.price(mantissa: 22750, exponent: -2) == 227.5)
        #expect(PriceScale.price(mantissa: 10842, exponent: -4) == 1.0842)
    }
}
