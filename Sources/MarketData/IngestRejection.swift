/// Why `/v1/publish` refused a message. The whole message is refused; the
/// rejection names the first offending record so the publisher can fix it.
public struct IngestRejection: Error, Equatable, Sendable, CustomStringConvertible {
    /// One value per check, so `/metrics` can say which rule publishers break.
    public enum Reason: String, Sendable, Equatable, CaseIterable {
        /// Not a binary v1 tick batch: text frame, bad header, length, record
        /// size other than 64, nonzero header reserved field, zero records.
        case malformed
        case unknownSymbol = "unknown_symbol"
        /// Snapshot, conflated or reserved flag bits set: flags are the server's.
        case flags
        /// `conflatedCount` is the server's (it counts what *it* swallowed).
        case conflatedCount = "conflated_count"
        /// The record's reserved field is not zero.
        case reserved
        /// `priceExponent` differs from the symbol's in `/v1/symbols`.
        case exponent
        /// bid > ask with both sides quoted.
        case crossedBook = "crossed_book"
        /// Sequence 0 or above `IngestRules.maxSequence`.
        case sequenceRange = "sequence_range"
        case symbolOwned = "symbol_owned"
        case sequenceStale = "sequence_stale"
        case sequenceGap = "sequence_gap"
        /// Auth on: the symbol is outside the `publish` token's `symbols`.
        case forbidden

        /// The stable error code the publisher receives.
        public var code: ControlErrorCode {
            switch self {
            case .malformed: .badRequest
            case .unknownSymbol: .unknownSymbol
            case .flags, .conflatedCount, .reserved, .exponent, .crossedBook, .sequenceRange: .badRecord
            case .symbolOwned: .symbolOwned
            case .sequenceStale: .sequenceStale
            case .sequenceGap: .sequenceGap
            case .forbidden: .forbidden
            }
        }
    }

    public var reason: Reason
    /// Index of the offending record in the message; nil for message-level problems.
    public var recordIndex: Int?
    /// Symbol id of that record, when it has one.
    public var symbolId: UInt32?
    /// What was wrong, for people (e.g. "expected sequence 12, got 14").
    public var detail: String

    public init(_ reason: Reason, recordIndex: Int? = nil, symbolId: UInt32? = nil, detail: String) {
        self.reason = reason
        self.recordIndex = recordIndex
        self.symbolId = symbolId
        self.detail = detail
    }

    public var description: String {
        var place: [String] = []
        if let recordIndex { place.append("record \(recordIndex)") }
        if let symbolId { place.append("symbol id \(symbolId)") }
        return place.isEmpty ? "\(reason.rawValue): \(detail)" : "\(reason.rawValue) at \(place.joined(separator: ", ")): \(detail)"
    }

    /// The `error` reply: the message names the record index, the symbol and
    /// the reason; `symbols` carries the ticker when the id is in the table.
    public func controlError(symbols table: SymbolTable) -> ControlError {
        var name: String?
        if let symbolId, Int(symbolId) < table.count { name = table[symbolId].symbol }
        var text = "message rejected"
        if let recordIndex { text += ", record \(recordIndex)" }
        if let name {
            text += " (\(name))"
        } else if let symbolId {
            text += " (symbol id \(symbolId))"
        }
        text += ": \(detail)"
        return ControlError(code: reason.code, id: nil, message: text, symbols: name.map { [$0] })
    }
}
