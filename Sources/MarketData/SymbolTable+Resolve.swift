/// Turns the ticker strings of a subscribe request into wire ids. Lives with
/// the table (not the server) so every consumer reports unknown symbols the
/// same way.
extension SymbolTable {
    /// Expands `"*"` to every symbol, drops duplicates keeping first-seen
    /// order, and rejects the whole request if any symbol is unknown: partial
    /// success would leave the client unsure what it is subscribed to.
    public func resolve(_ symbols: [String], requestID: Int?) throws(ControlError) -> [SymbolRef] {
        if symbols.contains(ControlRequest.wildcard) {
            return all.map { SymbolRef(symbol: $0.symbol, id: $0.id) }
        }
        var seen = Set<UInt32>()
        var refs: [SymbolRef] = []
        var unknown: [String] = []
        var unknownSeen = Set<String>()
        refs.reserveCapacity(symbols.count)
        for symbol in symbols {
            if let id = id(of: symbol) {
                if seen.insert(id).inserted { refs.append(SymbolRef(symbol: symbol, id: id)) }
            } else if unknownSeen.insert(symbol).inserted {
                unknown.append(symbol)
            }
        }
        guard unknown.isEmpty else {
            let list = unknown.prefix(5).joined(separator: ", ") + (unknown.count > 5 ? ", …" : "")
            throw ControlError(
                code: .unknownSymbol, id: requestID,
                message: "\(unknown.count) unknown symbol\(unknown.count == 1 ? "" : "s"): \(list)", symbols: unknown)
        }
        return refs
    }
}
