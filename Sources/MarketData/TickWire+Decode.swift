/// Decoding is for clients and tests, not the server's hot path, so it
/// favours validation over speed.
extension TickWire {
    public static func decodeRecord(_ bytes: UnsafeRawBufferPointer) -> Tick {
        precondition(bytes.count >= recordSize, "a tick record needs \(recordSize) bytes, got \(bytes.count)")
        let p = bytes.baseAddress!
        return Tick(
            symbolId: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.symbolId, as: UInt32.self)),
            flags: TickFlags(rawValue: p.loadUnaligned(fromByteOffset: RecordField.flags, as: UInt8.self)),
            priceExponent: p.loadUnaligned(fromByteOffset: RecordField.priceExponent, as: Int8.self),
            sequence: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.sequence, as: UInt64.self)),
            eventTimeNs: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.eventTime, as: UInt64.self)),
            bid: Int64(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.bid, as: Int64.self)),
            ask: Int64(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.ask, as: Int64.self)),
            last: Int64(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.last, as: Int64.self)),
            bidSize: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.bidSize, as: UInt32.self)),
            askSize: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.askSize, as: UInt32.self)),
            lastSize: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.lastSize, as: UInt32.self)),
            conflatedCount: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: RecordField.conflatedCount, as: UInt32.self)))
    }

    /// A record size above 64 is accepted and the tail skipped, so a v1
    /// client keeps working if a later server appends fields to records.
    public static func decodeMessage(
        _ bytes: UnsafeRawBufferPointer
    ) throws(TickWireError) -> (sendTimeNs: UInt64, ticks: [Tick]) {
        guard bytes.count >= headerSize, let p = bytes.baseAddress else {
            throw .truncatedHeader(length: bytes.count)
        }
        let version = p.loadUnaligned(fromByteOffset: HeaderField.version, as: UInt8.self)
        guard version == self.version else { throw .unsupportedVersion(version) }
        let type = p.loadUnaligned(fromByteOffset: HeaderField.messageType, as: UInt8.self)
        guard type == MessageType.ticks.rawValue else { throw .unknownMessageType(type) }
        let count = Int(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: HeaderField.recordCount, as: UInt16.self)))
        let size = Int(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: HeaderField.recordSize, as: UInt16.self)))
        guard size >= recordSize else { throw .recordSizeTooSmall(size) }
        let expected = headerSize + count * size
        guard bytes.count == expected else { throw .lengthMismatch(expected: expected, actual: bytes.count) }
        let sendTime = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: HeaderField.sendTime, as: UInt64.self))
        var ticks: [Tick] = []
        ticks.reserveCapacity(count)
        for index in 0..<count {
            let start = headerSize + index * size
            ticks.append(decodeRecord(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + recordSize)])))
        }
        return (sendTime, ticks)
    }

    /// Convenience for `[UInt8]`, `Data`, `ArraySlice` and friends.
    public static func decodeMessage(
        _ bytes: some Collection<UInt8>
    ) throws(TickWireError) -> (sendTimeNs: UInt64, ticks: [Tick]) {
        let contiguous = Array(bytes)
        // Array.withUnsafeBytes only rethrows untyped errors, so carry the
        // typed error out through a Result.
        let result = contiguous.withUnsafeBytes { raw in
            Result { () throws(TickWireError) in try decodeMessage(raw) }
        }
        return try result.get()
    }
}
