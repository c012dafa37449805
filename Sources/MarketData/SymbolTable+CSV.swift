/// CSV parsing lives apart from the table so the table stays a plain value;
/// the format is deliberately minimal (no quoting: no field can contain a comma).
extension SymbolTable {
    public static let csvHeader = "symbol,price,volatility,tick_size,lot_size"

    public init(csv: String) throws(SymbolTableError) {
        var symbols: [SymbolInfo] = []
        var firstLine: [String: Int] = [:]
        var sawHeader = false
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it must be matched explicitly.
        for line in csv.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if !sawHeader {
                let header = line.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingSpaces() }.joined(separator: ",")
                guard header == SymbolTable.csvHeader else {
                    throw .badHeader(line: lineNumber, found: String(line))
                }
                sawHeader = true
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
            guard fields.count == 5 else {
                throw .wrongFieldCount(line: lineNumber, expected: 5, found: fields.count)
            }
            let symbol = fields[0]
            guard SymbolTable.isValidSymbol(symbol) else { throw .invalidSymbol(line: lineNumber, symbol: symbol) }
            if let first = firstLine[symbol] {
                throw .duplicateSymbol(line: lineNumber, symbol: symbol, firstLine: first)
            }
            let price = try Self.positiveDouble(fields[1], field: "price", line: lineNumber)
            let volatility = try Self.number(fields[2], field: "volatility", line: lineNumber)
            guard volatility >= 0, volatility <= 10 else {
                throw .outOfRange(line: lineNumber, field: "volatility", value: fields[2])
            }
            let tickSize = try Self.positiveDouble(fields[3], field: "tick_size", line: lineNumber)
            guard let exponent = SymbolInfo.priceExponent(forTickSize: tickSize) else {
                throw .outOfRange(line: lineNumber, field: "tick_size", value: fields[3])
            }
            guard let lot = UInt32(fields[4]) else {
                throw UInt64(fields[4]) != nil || Int64(fields[4]) != nil
                    ? .outOfRange(line: lineNumber, field: "lot_size", value: fields[4])
                    : .invalidNumber(line: lineNumber, field: "lot_size", value: fields[4])
            }
            guard lot > 0 else { throw .outOfRange(line: lineNumber, field: "lot_size", value: fields[4]) }
            // A price below one tick could never be quoted.
            guard price >= tickSize else { throw .outOfRange(line: lineNumber, field: "price", value: fields[1]) }
            firstLine[symbol] = lineNumber
            symbols.append(
                SymbolInfo(
                    id: UInt32(symbols.count), symbol: symbol, price: price, volatility: volatility,
                    tickSize: tickSize, lotSize: lot, priceExponent: exponent))
        }
        guard sawHeader else { throw .empty }
        self.init(symbols: symbols)
    }

    private static func number(_ text: String, field: String, line: Int) throws(SymbolTableError) -> Double {
        guard let value = Double(text), value.isFinite else {
            throw .invalidNumber(line: line, field: field, value: text)
        }
        return value
    }

    private static func positiveDouble(_ text: String, field: String, line: Int) throws(SymbolTableError) -> Double {
        let value = try number(text, field: field, line: line)
        guard value > 0 else { throw .outOfRange(line: line, field: field, value: text) }
        return value
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
