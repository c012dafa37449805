/// A symbol paired with its wire id: replies hand these out so a client can
/// map the numeric `symbolId` of binary records back to tickers.
public struct SymbolRef: Equatable, Sendable, Hashable {
    public var symbol: String
    public var id: UInt32

    public init(symbol: String, id: UInt32) {
        self.symbol = symbol
        self.id = id
    }
}
