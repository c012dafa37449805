/// Immutable id ↔ symbol mapping shared by the feed, the fan-out and clients.
/// Ids are array positions so lookups by id (the hot direction) are indexing.
public struct SymbolTable: Sendable {
    public static let maxSymbolLength = 8

    public let all: [SymbolInfo]
    private let idsBySymbol: [String: UInt32]

    /// Requires `symbols[i].id == i` and unique symbols: silently renumbering
    /// would desynchronise ids already handed to clients.
    public init(symbols: [SymbolInfo]) {
        var index: [String: UInt32] = [:]
        index.reserveCapacity(symbols.count)
        for (position, info) in symbols.enumerated() {
            // `resolve` looks up nothing else, so such a symbol could never be subscribed.
            precondition(Self.isValidSymbol(info.symbol), "invalid symbol \(info.symbol)")
            precondition(Int(info.id) == position, "symbol \(info.symbol) has id \(info.id), expected \(position)")
            let previous = index.updateValue(info.id, forKey: info.symbol)
            precondition(previous == nil, "duplicate symbol \(info.symbol)")
        }
        self.all = symbols
        self.idsBySymbol = index
    }

    public var count: Int { all.count }

    public subscript(id: UInt32) -> SymbolInfo { all[Int(id)] }

    public func id(of symbol: String) -> UInt32? { idsBySymbol[symbol] }

    /// Only the ticker characters real venues use, so a symbol can be embedded
    /// in URLs, JSON and metrics labels without escaping.
    public static func isValidSymbol(_ symbol: some StringProtocol) -> Bool {
        guard !symbol.isEmpty, symbol.utf8.count <= maxSymbolLength else { return false }
        return symbol.utf8.allSatisfy { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || $0 == UInt8(ascii: ".") }
    }
}
