/// Why a symbol CSV was rejected. Every content case carries the 1-based line
/// number so an operator can fix the file without guessing.
public enum SymbolTableError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read at all; `reason` is the system's, in words.
    case unreadable(path: String, reason: String)
    case empty
    case badHeader(line: Int, found: String)
    case wrongFieldCount(line: Int, expected: Int, found: Int)
    case invalidSymbol(line: Int, symbol: String)
    case invalidNumber(line: Int, field: String, value: String)
    case outOfRange(line: Int, field: String, value: String)
    case duplicateSymbol(line: Int, symbol: String, firstLine: Int)

    public var line: Int? {
        switch self {
        case .empty, .unreadable: nil
        case .badHeader(let line, _), .wrongFieldCount(let line, _, _), .invalidSymbol(let line, _),
            .invalidNumber(let line, _, _), .outOfRange(let line, _, _),
            .duplicateSymbol(let line, _, _):
            line
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .empty:
            "symbol table is empty (expected header `\(SymbolTable.csvHeader)`)"
        case .badHeader(let line, let found):
            "line \(line): expected header `\(SymbolTable.csvHeader)`, found `\(found)`"
        case .wrongFieldCount(let line, let expected, let found):
            "line \(line): expected \(expected) comma-separated fields, found \(found)"
        case .invalidSymbol(let line, let symbol):
            "line \(line): invalid symbol `\(symbol)` (1-\(SymbolTable.maxSymbolLength) characters, A-Z and '.' only)"
        case .invalidNumber(let line, let field, let value):
            "line \(line): field `\(field)` is not a number: `\(value)`"
        case .outOfRange(let line, let field, let value):
            "line \(line): field `\(field)` out of range: `\(value)`"
        case .duplicateSymbol(let line, let symbol, let firstLine):
            "line \(line): duplicate symbol `\(symbol)` (first defined on line \(firstLine))"
        }
    }
}
