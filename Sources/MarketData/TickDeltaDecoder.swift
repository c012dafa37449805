/// The receiving side of the delta encoding: per symbol the last record
/// decoded (what the next delta of that symbol is relative to). A value
/// type with no I/O: bytes in, ticks or a `TickDeltaError` out. On any error
/// it forgets everything, so a stream that went wrong can never yield a
/// wrong record later; the caller restarts the stream.
public struct TickDeltaDecoder: Sendable {
    /// Symbols kept at most: bounds the memory a hostile stream can claim.
    public static let maxSymbols = 1 << 16
    /// Per symbol id below `maxSymbols`, its last record (dense: ids are
    /// table indices, and a dictionary costs a hash per record); larger
    /// ids, which no table of ours has, in `sparse`.
    private var dense: [Tick?] = []
    private var sparse: [UInt32: Tick] = [:]
    /// Symbols held.
    public private(set) var symbolCount = 0

    public init() {}

    public mutating func reset() {
        dense = []
        sparse = [:]
        symbolCount = 0
    }

    /// The last record decoded for `symbol`: what its next delta is relative to.
    public func reference(_ symbol: UInt32) -> Tick? {
        Int(symbol) < dense.count ? dense[Int(symbol)] : sparse[symbol]
    }

    private mutating func store(_ tick: Tick) {
        let i = Int(tick.symbolId)
        if i < Self.maxSymbols {
            if i >= dense.count { dense.append(contentsOf: repeatElement(nil, count: max(i + 1, min(Self.maxSymbols, dense.count * 2)) - dense.count)) }
            if dense[i] == nil { symbolCount += 1 }
            dense[i] = tick
        } else {
            if sparse.updateValue(tick, forKey: tick.symbolId) == nil { symbolCount += 1 }
        }
    }

    /// Decodes one delta message (header included).
    public mutating func decodeMessage(_ bytes: UnsafeRawBufferPointer) throws(TickDeltaError) -> (sendTimeNs: UInt64, ticks: [Tick]) {
        do {
            return try decode(bytes)
        } catch {
            reset()
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
        // `while`, not `for … in 0..<count`: a debug build (the tests, a
        // client built for debugging) pays a generic iterator per step.
        while reader.record < count {
            ticks.append(try readRecord(&reader, sendTimeNs: sendTime))
            reader.record += 1
        }
        guard reader.at == bytes.count else { throw .trailingBytes(bytes.count - reader.at) }
        return (sendTime, ticks)
    }

    private mutating func readRecord(_ r: inout Reader, sendTimeNs: UInt64) throws(TickDeltaError) -> Tick {
        let (symbol, presence, flags, count) = r.recordHead()
        try r.check()
        var tick: Tick
        if presence & TickDelta.Presence.keyframe != 0 {
            guard presence & TickDelta.Presence.deltaFields == 0 else { throw .reservedBits(record: r.record) }
            let sequence = r.varint()
            let exponent = Int8(bitPattern: r.byte())
            let time = sendTimeNs &- UInt64(bitPattern: TickDelta.unzigzag(r.varint()))
            let bid = TickDelta.unzigzag(r.varint())
            let ask = bid &+ TickDelta.unzigzag(r.varint())
            let last = bid &+ TickDelta.unzigzag(r.varint())
            tick = Tick(symbolId: symbol, priceExponent: exponent, sequence: sequence, eventTimeNs: time,
                        bid: bid, ask: ask, last: last, bidSize: r.size(), askSize: r.size(), lastSize: r.size())
            try r.check()
            if symbolCount >= Self.maxSymbols && reference(symbol) == nil { throw .tooManySymbols(record: r.record) }
        } else {
            guard let reference = reference(symbol) else { throw .missingKeyframe(record: r.record, symbolId: symbol) }
            tick = reference
            tick.sequence = SequenceRule.expected(after: reference.sequence, conflatedCount: count)
            tick.eventTimeNs = sendTimeNs &- UInt64(bitPattern: TickDelta.unzigzag(r.varint()))
            if presence & TickDelta.Presence.bid != 0 { tick.bid = reference.bid &+ TickDelta.unzigzag(r.varint()) }
            var spread = reference.ask &- reference.bid
            if presence & TickDelta.Presence.spread != 0 { spread = spread &+ TickDelta.unzigzag(r.varint()) }
            var offset = reference.last &- reference.bid
            if presence & TickDelta.Presence.lastOffset != 0 { offset = offset &+ TickDelta.unzigzag(r.varint()) }
            tick.ask = tick.bid &+ spread
            tick.last = tick.bid &+ offset
            if presence & TickDelta.Presence.bidSize != 0 { tick.bidSize = r.size() }
            if presence & TickDelta.Presence.askSize != 0 { tick.askSize = r.size() }
            if presence & TickDelta.Presence.lastSize != 0 { tick.lastSize = r.size() }
            try r.check()
        }
        tick.flags = TickFlags(rawValue: flags)
        tick.conflatedCount = count
        store(tick)
        return tick
    }

    /// Bounds-checked reads over one message. A failed read returns 0 and
    /// leaves its reason in `failure` (the first one is kept); the caller
    /// checks it (`check`) before a value it read is used for anything
    /// but arithmetic: cheaper than a throw per byte.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at: Int
        var record = 0
        private var failure: UInt8 = 0
        private static let truncated: UInt8 = 1
        private static let overflow: UInt8 = 2

        init(bytes: UnsafeRawBufferPointer, at: Int) {
            self.bytes = bytes
            self.at = at
        }

        func check() throws(TickDeltaError) {
            switch failure {
            case 0: return
            case Self.truncated: throw .truncated(record: record)
            default: throw .varintOverflow(record: record)
            }
        }

        private mutating func fail(_ reason: UInt8) {
            if failure == 0 { failure = reason }
        }

        /// A record's head: its symbol id, presence byte, and the flags and
        /// conflated count an extended record carries (0 otherwise).
        mutating func recordHead() -> (symbol: UInt32, presence: UInt8, flags: UInt8, count: UInt32) {
            let symbol = u32()
            let presence = byte()
            guard presence & TickDelta.Presence.extended != 0 else { return (symbol, presence, 0, 0) }
            let flags = byte()
            return (symbol, presence, flags, u32())
        }

        mutating func byte() -> UInt8 {
            guard at < bytes.count else {
                fail(Self.truncated)
                return 0
            }
            let b = bytes[at]
            at += 1
            return b
        }

        /// LEB128, at most 10 bytes, the tenth at most 1.
        mutating func varint() -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while at < bytes.count {
                let b = bytes[at]
                at += 1
                if shift == 63 && b > 1 {
                    fail(Self.overflow)
                    return 0
                }
                value |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return value }
                shift += 7
            }
            fail(Self.truncated)
            return 0
        }

        mutating func u32() -> UInt32 {
            let v = varint()
            guard v <= UInt64(UInt32.max) else {
                fail(Self.overflow)
                return 0
            }
            return UInt32(v)
        }

        mutating func size() -> UInt32 {
            guard let v = TickDelta.unscaled(varint()) else {
                fail(Self.overflow)
                return 0
            }
            return v
        }
    }
}
