/// Delta encoding (message type 2): variable-length, self-delimiting
/// records that restate a symbol's previous record only where it changed.
/// Specified in docs/PROTOCOL.md ("Delta encoding"); change both together.
///
/// Why these choices: the default feed moves bid and ask together (the
/// spread rarely changes), so ask and last are coded relative to bid;
/// sizes are whole lots, so they are coded as a mantissa and a power of
/// ten; event time is coded against the message's `sendTimeNs`, which the
/// receiver already has, so it costs the latency, not the clock. The
/// encoder never fails and never reads outside `tick` and `reference`.
public enum TickDelta {
    public static let messageType: UInt8 = 2
    /// A record is at most this long (a keyframe with flags and every
    /// varint at its widest): callers reserve it before encoding.
    public static let maxRecordSize = 5 + 1 + 1 + 5 + 10 + 1 + 10 * 4 + 5 * 3

    /// Presence byte bits.
    public enum Presence {
        public static let keyframe: UInt8 = 1 << 0
        public static let bid: UInt8 = 1 << 1
        public static let spread: UInt8 = 1 << 2
        public static let lastOffset: UInt8 = 1 << 3
        public static let bidSize: UInt8 = 1 << 4
        public static let askSize: UInt8 = 1 << 5
        public static let lastSize: UInt8 = 1 << 6
        /// A flags byte and a varint `conflatedCount` follow.
        public static let extended: UInt8 = 1 << 7
        /// Bits a keyframe must leave clear (its fields are all present).
        public static let deltaFields: UInt8 = 0b0111_1110
    }

    // MARK: encoding

    /// Writes `tick` as a keyframe at `p` (room for `maxRecordSize`);
    /// returns the bytes written.
    public static func writeKeyframe(_ tick: Tick, sendTimeNs: UInt64, to p: UnsafeMutableRawPointer) -> Int {
        var at = writeVarint(UInt64(tick.symbolId), to: p)
        var presence = Presence.keyframe
        let extended = tick.flags.rawValue != 0 || tick.conflatedCount != 0
        if extended { presence |= Presence.extended }
        p.storeBytes(of: presence, toByteOffset: at, as: UInt8.self)
        at += 1
        if extended { at += writeExtension(tick, to: p + at) }
        at += writeVarint(tick.sequence, to: p + at)
        p.storeBytes(of: tick.priceExponent, toByteOffset: at, as: Int8.self)
        at += 1
        at += writeVarint(zigzag(Int64(bitPattern: sendTimeNs &- tick.eventTimeNs)), to: p + at)
        at += writeVarint(zigzag(tick.bid), to: p + at)
        at += writeVarint(zigzag(tick.ask &- tick.bid), to: p + at)
        at += writeVarint(zigzag(tick.last &- tick.bid), to: p + at)
        at += writeVarint(scaled(tick.bidSize), to: p + at)
        at += writeVarint(scaled(tick.askSize), to: p + at)
        at += writeVarint(scaled(tick.lastSize), to: p + at)
        return at
    }

    /// Writes `tick` relative to `reference` (the symbol's previous record
    /// as the receiver decoded it). A change of exponent or of symbol
    /// cannot be a delta: the keyframe is written instead.
    public static func writeDelta(
        _ tick: Tick, reference: Tick, sendTimeNs: UInt64, to p: UnsafeMutableRawPointer
    ) -> Int {
        guard tick.priceExponent == reference.priceExponent, tick.symbolId == reference.symbolId,
              tick.sequence == SequenceRule.expected(after: reference.sequence, conflatedCount: tick.conflatedCount)
        else { return writeKeyframe(tick, sendTimeNs: sendTimeNs, to: p) }
        var at = writeVarint(UInt64(tick.symbolId), to: p)
        let presenceAt = at
        at += 1
        var presence: UInt8 = 0
        if tick.flags.rawValue != 0 || tick.conflatedCount != 0 {
            presence |= Presence.extended
            at += writeExtension(tick, to: p + at)
        }
        at += writeVarint(zigzag(Int64(bitPattern: sendTimeNs &- tick.eventTimeNs)), to: p + at)
        if tick.bid != reference.bid {
            presence |= Presence.bid
            at += writeVarint(zigzag(tick.bid &- reference.bid), to: p + at)
        }
        let spread = tick.ask &- tick.bid, referenceSpread = reference.ask &- reference.bid
        if spread != referenceSpread {
            presence |= Presence.spread
            at += writeVarint(zigzag(spread &- referenceSpread), to: p + at)
        }
        let offset = tick.last &- tick.bid, referenceOffset = reference.last &- reference.bid
        if offset != referenceOffset {
            presence |= Presence.lastOffset
            at += writeVarint(zigzag(offset &- referenceOffset), to: p + at)
        }
        if tick.bidSize != reference.bidSize {
            presence |= Presence.bidSize
            at += writeVarint(scaled(tick.bidSize), to: p + at)
        }
        if tick.askSize != reference.askSize {
            presence |= Presence.askSize
            at += writeVarint(scaled(tick.askSize), to: p + at)
        }
        if tick.lastSize != reference.lastSize {
            presence |= Presence.lastSize
            at += writeVarint(scaled(tick.lastSize), to: p + at)
        }
        p.storeBytes(of: presence, toByteOffset: presenceAt, as: UInt8.self)
        return at
    }

    private static func writeExtension(_ tick: Tick, to p: UnsafeMutableRawPointer) -> Int {
        p.storeBytes(of: tick.flags.rawValue, as: UInt8.self)
        return 1 + writeVarint(UInt64(tick.conflatedCount), to: p + 1)
    }

    /// Appends a keyframe (`reference` nil) or a delta to `buffer`.
    public static func appendRecord(_ tick: Tick, reference: Tick?, sendTimeNs: UInt64, to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: maxRecordSize, alignment: 1) { scratch in
            let p = scratch.baseAddress!
            let n = reference.map { writeDelta(tick, reference: $0, sendTimeNs: sendTimeNs, to: p) }
                ?? writeKeyframe(tick, sendTimeNs: sendTimeNs, to: p)
            buffer.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    /// The 16-byte header of a delta message: version 1, type 2, record size 0.
    public static func writeHeader(recordCount: Int, sendTimeNs: UInt64, to pointer: UnsafeMutableRawPointer) {
        TickWire.writeHeader(recordCount: recordCount, sendTimeNs: sendTimeNs, to: pointer)
        pointer.storeBytes(of: messageType, toByteOffset: TickWire.HeaderField.messageType, as: UInt8.self)
        pointer.storeBytes(of: UInt16(0), toByteOffset: TickWire.HeaderField.recordSize, as: UInt16.self)
    }

    /// A whole delta message of keyframes (snapshots, conflation, replays):
    /// each record stands alone, whatever the receiver had before.
    public static func keyframeMessage(_ ticks: some Collection<Tick>, sendTimeNs: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: TickWire.headerSize)
        out.reserveCapacity(TickWire.headerSize + ticks.count * 24)
        for tick in ticks { appendRecord(tick, reference: nil, sendTimeNs: sendTimeNs, to: &out) }
        out.withUnsafeMutableBytes { writeHeader(recordCount: ticks.count, sendTimeNs: sendTimeNs, to: $0.baseAddress!) }
        return out
    }

    // MARK: primitives

    /// LEB128: 7 bits per byte, low first, high bit set on all but the last.
    @inline(__always)
    public static func writeVarint(_ value: UInt64, to p: UnsafeMutableRawPointer) -> Int {
        var v = value, n = 0
        while v >= 0x80 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: n, as: UInt8.self)
            v >>= 7
            n += 1
        }
        p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: n, as: UInt8.self)
        return n + 1
    }

    @inline(__always)
    public static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    @inline(__always)
    public static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1))) }

    /// A size as mantissa × 10^k: `mantissa << 3 | k`, k the most trailing
    /// decimal zeros up to 7, so a round lot of 100 to 1,500 shares is one byte.
    @inline(__always)
    public static func scaled(_ size: UInt32) -> UInt64 {
        guard size != 0 else { return 0 }
        var n = size, k: UInt64 = 0
        while k < 7, n % 10 == 0 {
            n /= 10
            k += 1
        }
        return UInt64(n) << 3 | k
    }

    /// Inverse of `scaled`; nil when the value does not fit a u32.
    @inline(__always)
    public static func unscaled(_ x: UInt64) -> UInt32? {
        var n = x >> 3
        var k = x & 7
        while k > 0 {
            let (m, overflow) = n.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            n = m
            k -= 1
        }
        return n <= UInt64(UInt32.max) ? UInt32(n) : nil
    }
}
