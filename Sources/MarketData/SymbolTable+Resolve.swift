/// Turns the ticker strings of a subscribe request into wire ids. Lives with
/// the table (not the server) so every consumer reports unknown symbols the
/// same way.
extension SymbolTable {
    /// Expands `"*"` to every symbol, drops duplicates keeping first-seen
    /// order, and rejects the whole request if any symbol is unknown: partial
    /// success would leave the client unsure what it is subscribed to.
    ///
    /// Client strings are never hashed or compared as `String`: that
    /// normalises them, quadratic in a run of combining marks (a 32 KB symbol
    /// took 450 ms). Only a string that could be a ticker (`isValidSymbol`:
    /// ASCII, hashed without normalising) is looked up; the rest are compared
    /// and de-duplicated by their bytes.
    public func resolve(_ symbols: [String], requestID: Int?) throws(ControlError) -> [SymbolRef] {
        if symbols.contains(where: { UTF8Key($0) == UTF8Key(ControlRequest.wildcard) }) {
            return all.map { SymbolRef(symbol: $0.symbol, id: $0.id) }
        }
        var seen = Set<UInt32>()
        var refs: [SymbolRef] = []
        var unknown: [String] = []
        var unknownSeen = Set<UTF8Key>()
        refs.reserveCapacity(symbols.count)
        for symbol in symbols {
            if SymbolTable.isValidSymbol(symbol), let id = id(of: symbol) {
                if seen.insert(id).inserted { refs.append(SymbolRef(symbol: symbol, id: id)) }
            } else {
                if unknownSeen.isEmpty { unknownSeen.reserveCapacity(symbols.count) }
                if unknownSeen.insert(UTF8Key(symbol)).inserted { unknown.append(symbol) }
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

/// A string hashed and compared by its UTF-8 bytes, in place: no
/// normalising, no copy, no generic walk over a `UTF8View`.
private struct UTF8Key: Hashable {
    let string: String

    init(_ string: String) {
        self.string = string
    }

    private func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var string = string
        return string.withUTF8(body)
    }

    static func == (a: UTF8Key, b: UTF8Key) -> Bool {
        a.withBytes { x in b.withBytes { y in x.count == y.count && x.elementsEqual(y) } }
    }

    func hash(into hasher: inout Hasher) {
        withBytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
