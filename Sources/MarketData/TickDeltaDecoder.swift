/// The receiving side of the delta encoding: per symbol the last record
/// decoded (what the next delta of that symbol is relative to). A value
/// type with no I/O: bytes in, ticks or a `TickDeltaError` out. On any error
/// it forgets everything, so a stream that went wrong can never yield a
/// wrong record later; the caller restarts the stream.
public struct TickDeltaDecoder: Sendable {
    /// Symbols kept at most: bounds the memory a hostile stream can claim.
    public static let maxSymbols = 1 << 16
    public private(set) var references: [UInt32: Tick] = [:]

    public init() {}

    public mutating func reset() { references.removeAll() }

    /// Decodes one delta message (header included).
    public mutating func decodeMessage(_ bytes: UnsafeRawBufferPointer) throws(TickDeltaError) -> (sendTimeNs: UInt64, ticks: [Tick]) {
        do {
            return try decode(bytes)
        } catch {
            references.removeAll()
            throw error
        }
    }

    public mutating func decodeMessage(_ bytes: some Collection<UInt8>) throws(TickDeltaError) -> (sendTimeNs: UInt64, ticks: [Tick]) {
        let contiguous = Array(bytes)
        let result = contiguous.withUnsafeBytes { raw in
            Result { () throws(TickDeltaError) in try decodeMessage(raw) }
        }
        return try result.get()
    }

    private mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(TickDeltaError) -> (sendTimeNs: UInt64, ticks: [Tick]) {
        guard bytes.count >= TickWire.headerSize else { throw .truncatedHeader(length: bytes.count) }
        let version = bytes[TickWire.HeaderField.version]
        guard version == TickWire.version else { throw .unsupportedVersion(version) }
        let type = bytes[TickWire.HeaderField.messageType]
        guard type == TickDelta.messageType else { throw .unknownMessageType(type) }
        let count = Int(bytes[TickWire.HeaderField.recordCount]) | Int(bytes[TickWire.HeaderField.recordCount + 1]) << 8
        let size = Int(bytes[TickWire.HeaderField.recordSize]) | Int(bytes[TickWire.HeaderField.recordSize + 1]) << 8
        guard size == 0 else { throw .badRecordSize(size) }
        var sendTime: UInt64 = 0
        for i in 0..<8 { sendTime |= UInt64(bytes[TickWire.HeaderField.sendTime + i]) << (8 * i) }
        var reader = Reader(bytes: bytes, at: TickWire.headerSize)
        var ticks: [Tick] = []
        ticks.reserveCapacity(min(count, bytes.count / 3))
        for record in 0..<count {
            reader.record = record
            let tick = try readRecord(&reader, sendTimeNs: sendTime)
            ticks.append(tick)
        }
        guard reader.at == bytes.count else { throw .trailingBytes(bytes.count - reader.at) }
        return (sendTime, ticks)
    }

    private mutating func readRecord(_ r: inout Reader, sendTimeNs: UInt64) throws(TickDeltaError) -> Tick {
        let symbol = try r.u32()
        let presence = try r.byte()
        var flags: UInt8 = 0
        var count: UInt32 = 0
        if presence & TickDelta.Presence.extended != 0 {
            flags = try r.byte()
            count = try r.u32()
        }
        var tick: Tick
        if presence & TickDelta.Presence.keyframe != 0 {
            guard presence & TickDelta.Presence.deltaFields == 0 else { throw .reservedBits(record: r.record) }
            let sequence = try r.varint()
            let exponent = Int8(bitPattern: try r.byte())
            let time = sendTimeNs &- UInt64(bitPattern: TickDelta.unzigzag(try r.varint()))
            let bid = TickDelta.unzigzag(try r.varint())
            let ask = bid &+ TickDelta.unzigzag(try r.varint())
            let last = bid &+ TickDelta.unzigzag(try r.varint())
            tick = Tick(symbolId: symbol, priceExponent: exponent, sequence: sequence, eventTimeNs: time,
                        bid: bid, ask: ask, last: last,
                        bidSize: try r.size(), askSize: try r.size(), lastSize: try r.size())
            if references[symbol] == nil && references.count >= Self.maxSymbols { throw .tooManySymbols(record: r.record) }
        } else {
            guard let reference = references[symbol] else { throw .missingKeyframe(record: r.record, symbolId: symbol) }
            tick = reference
            tick.sequence = SequenceRule.expected(after: reference.sequence, conflatedCount: count)
            tick.eventTimeNs = sendTimeNs &- UInt64(bitPattern: TickDelta.unzigzag(try r.varint()))
            if presence & TickDelta.Presence.bid != 0 { tick.bid = reference.bid &+ TickDelta.unzigzag(try r.varint()) }
            var spread = reference.ask &- reference.bid
            if presence & TickDelta.Presence.spread != 0 { spread = spread &+ TickDelta.unzigzag(try r.varint()) }
            var offset = reference.last &- reference.bid
            if presence & TickDelta.Presence.lastOffset != 0 { offset = offset &+ TickDelta.unzigzag(try r.varint()) }
            tick.ask = tick.bid &+ spread
            tick.last = tick.bid &+ offset
            if presence & TickDelta.Presence.bidSize != 0 { tick.bidSize = try r.size() }
            if presence & TickDelta.Presence.askSize != 0 { tick.askSize = try r.size() }
            if presence & TickDelta.Presence.lastSize != 0 { tick.lastSize = try r.size() }
        }
        tick.flags = TickFlags(rawValue: flags)
        tick.conflatedCount = count
        references[symbol] = tick
        return tick
    }

    /// Bounds-checked reads over one message.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at: Int
        var record = 0

        mutating func byte() throws(TickDeltaError) -> UInt8 {
            guard at < bytes.count else { throw .truncated(record: record) }
            defer { at += 1 }
            return bytes[at]
        }

        /// LEB128, at most 10 bytes, the tenth at most 1.
        mutating func varint() throws(TickDeltaError) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<10 {
                let b = try byte()
                if i == 9 && b > 1 { throw .varintOverflow(record: record) }
                value |= UInt64(b & 0x7f) << (7 * i)
                if b & 0x80 == 0 { return value }
            }
            throw .varintOverflow(record: record)
        }

        mutating func u32() throws(TickDeltaError) -> UInt32 {
            let v = try varint()
            guard v <= UInt64(UInt32.max) else { throw .varintOverflow(record: record) }
            return UInt32(v)
        }

        mutating func size() throws(TickDeltaError) -> UInt32 {
            guard let v = TickDelta.unscaled(try varint()) else { throw .varintOverflow(record: record) }
            return v
        }
    }
}
