/// The stateless half of `/v1/publish` validation: every rule that can be
/// checked on the message's bytes and the symbol table alone. The sequence
/// rules need the server's per-symbol state and live in `IngestLedger`.
///
/// A publisher supplies market data, never stream bookkeeping: snapshot and
/// conflated flags and `conflatedCount` describe what the *server* did for
/// one connection, so a publisher setting them could make every subscriber
/// accept an undeclared gap. They must be zero, like every reserved field.
public enum IngestValidator {
    /// Largest sequence number a publisher may use: 2^53. Every integer up
    /// to it is exact in an IEEE-754 double, so a JavaScript client (whose
    /// numbers are doubles) can compare `previous + 1` without rounding.
    public static let maxSequence: UInt64 = 1 << 53

    /// Returns the records of a valid message, or the first broken rule:
    /// header first, then record by record in order.
    public static func validate(
        _ bytes: UnsafeRawBufferPointer, symbols: SymbolTable
    ) throws(IngestRejection) -> [Tick] {
        let count = try validateHeader(bytes)
        let base = bytes.baseAddress!
        var ticks: [Tick] = []
        ticks.reserveCapacity(count)
        for index in 0..<count {
            let start = TickWire.headerSize + index * TickWire.recordSize
            let record = UnsafeRawBufferPointer(start: base + start, count: TickWire.recordSize)
            let reserved = UInt16(littleEndian: record.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
            let tick = TickWire.decodeRecord(record)
            try validateRecord(tick, reservedField: reserved, index: index, symbols: symbols)
            ticks.append(tick)
        }
        return ticks
    }

    /// The server's form: appends the records of a valid message to `ticks`
    /// (one array for every message of a read, so no array per message) and
    /// returns their count; on a refusal `ticks` is left as it was. The
    /// records' bytes need no re-encoding afterwards: a valid record has zero
    /// flags, count and reserved field, so its 64 bytes are exactly what
    /// `TickWire.writeRecord` would produce from the decoded tick.
    public static func validate(
        _ bytes: UnsafeRawBufferPointer, symbols: SymbolTable, appendingTo ticks: inout [Tick]
    ) throws(IngestRejection) -> Int {
        let count = try validateHeader(bytes)
        let base = bytes.baseAddress!
        let start = ticks.count
        ticks.reserveCapacity(start + count)
        for index in 0..<count {
            let record = UnsafeRawBufferPointer(start: base + TickWire.headerSize + index * TickWire.recordSize,
                                                count: TickWire.recordSize)
            let reserved = UInt16(littleEndian: record.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
            let tick = TickWire.decodeRecord(record)
            do {
                try validateRecord(tick, reservedField: reserved, index: index, symbols: symbols)
            } catch {
                ticks.removeSubrange(start...)
                throw error
            }
            ticks.append(tick)
        }
        return count
    }

    /// Convenience for `[UInt8]` and other byte collections.
    public static func validate(_ bytes: some Collection<UInt8>, symbols: SymbolTable) throws(IngestRejection) -> [Tick] {
        let contiguous = Array(bytes)
        let result = contiguous.withUnsafeBytes { raw in
            Result { () throws(IngestRejection) in try validate(raw, symbols: symbols) }
        }
        return try result.get()
    }

    /// Returns the record count. Stricter than a client's decoder: records
    /// are re-encoded as v1, so a longer record's tail would be dropped
    /// silently; the publisher must send exactly 64-byte records.
    static func validateHeader(_ bytes: UnsafeRawBufferPointer) throws(IngestRejection) -> Int {
        func malformed(_ detail: String) -> IngestRejection { IngestRejection(.malformed, detail: detail) }
        guard bytes.count >= TickWire.headerSize else {
            throw malformed("\(bytes.count) bytes is shorter than the \(TickWire.headerSize)-byte header")
        }
        let version = bytes.loadUnaligned(fromByteOffset: 0, as: UInt8.self)
        guard version == TickWire.version else { throw malformed("wire version \(version), expected \(TickWire.version)") }
        let type = bytes.loadUnaligned(fromByteOffset: 1, as: UInt8.self)
        guard type == TickWire.MessageType.ticks.rawValue else { throw malformed("message type \(type), expected 1 (ticks)") }
        let count = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        guard count > 0 else { throw malformed("recordCount is 0") }
        let size = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self)))
        guard size == TickWire.recordSize else { throw malformed("recordSize \(size), expected \(TickWire.recordSize)") }
        let reserved = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        guard reserved == 0 else { throw malformed("header reserved field is \(reserved), expected 0") }
        let expected = TickWire.messageSize(recordCount: count)
        guard bytes.count == expected else {
            throw malformed("message is \(bytes.count) bytes, header says \(expected)")
        }
        return count
    }

    static func validateRecord(
        _ tick: Tick, reservedField: UInt16, index: Int, symbols: SymbolTable
    ) throws(IngestRejection) {
        let id = tick.symbolId
        func reject(_ reason: IngestRejection.Reason, _ detail: String) -> IngestRejection {
            IngestRejection(reason, recordIndex: index, symbolId: id, detail: detail)
        }
        guard Int(id) < symbols.count else {
            throw reject(.unknownSymbol, "symbol id \(id) out of range (0..<\(symbols.count))")
        }
        guard reservedField == 0 else { throw reject(.reserved, "reserved field is \(reservedField), expected 0") }
        guard tick.flags.isEmpty else {
            throw reject(.flags, "flags are 0x\(String(tick.flags.rawValue, radix: 16)); snapshot/conflated flags are set by the server, other bits are reserved")
        }
        guard tick.conflatedCount == 0 else {
            throw reject(.conflatedCount, "conflatedCount is \(tick.conflatedCount); only the server conflates")
        }
        let exponent = symbols[id].priceExponent
        guard tick.priceExponent == exponent else {
            throw reject(.exponent, "price exponent \(tick.priceExponent), the symbol's is \(exponent) (GET /v1/symbols)")
        }
        guard tick.sequence >= 1 && tick.sequence <= maxSequence else {
            throw reject(.sequenceRange, "sequence \(tick.sequence) outside 1...\(maxSequence)")
        }
        guard tick.bid == 0 || tick.ask == 0 || tick.bid <= tick.ask else {
            throw reject(.crossedBook, "crossed book: bid \(tick.bid) > ask \(tick.ask)")
        }
    }
}
