import Testing
@testable import MarketData

@Suite struct TickDeltaTests {
    static let send: UInt64 = 1_717_171_200_123_456_789
    static let aapl = Tick(symbolId: 0, priceExponent: -2, sequence: 1001, eventTimeNs: send - 850_000,
                           bid: 22749, ask: 22751, last: 22750, bidSize: 300, askSize: 500, lastSize: 100)

    private func message(_ records: [(Tick, Tick?)], sendTimeNs: UInt64 = send) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        out.withUnsafeMutableBytes { TickDelta.writeHeader(recordCount: records.count, sendTimeNs: sendTimeNs, to: $0.baseAddress!) }
        for (t, r) in records { TickDelta.appendRecord(t, reference: r, sendTimeNs: sendTimeNs, to: &out) }
        return out
    }

    private func error(_ bytes: [UInt8], decoder: TickDeltaDecoder = TickDeltaDecoder()) -> TickDeltaError? {
        var d = decoder
        do { _ = try d.decodeMessage(bytes); return nil } catch { return error }
    }

    @Test func keyframeBytesByteByByte() {
        let bytes = message([(Self.aapl, nil)])
        #expect(Array(bytes[0..<8]) == [1, 2, 1, 0, 0, 0, 0, 0])
        // symbol 0, presence keyframe, seq 1001, exp -2, time 850,000 zigzag, bid, spread 2, offset 1, sizes 300/500/100
        #expect(Array(bytes[16...]) == [0x00, 0x01, 0xe9, 0x07, 0xfe, 0xa0, 0xe1, 0x67, 0xba, 0xe3, 0x02, 0x04, 0x02, 0x1a, 0x2a, 0x0a])
    }

    @Test func deltaOfTimeOnlyIsThreeBytesPlusTime() {
        var next = Self.aapl
        next.sequence += 1
        next.eventTimeNs = Self.send - 1_000
        let bytes = message([(next, Self.aapl)])
        #expect(Array(bytes[16...]) == [0x00, 0x00, 0xd0, 0x0f])
    }

    @Test func varintsAndZigzag() {
        for v: Int64 in [0, -1, 1, 63, -64, 64, .max, .min] { #expect(TickDelta.unzigzag(TickDelta.zigzag(v)) == v) }
        for size: UInt32 in [0, 1, 10, 100, 137, 500, 3500, 100_000, 4_294_967_295, 4_000_000_000] {
            #expect(TickDelta.unscaled(TickDelta.scaled(size)) == size)
        }
        #expect(TickDelta.scaled(300) == 3 << 3 | 2)
        #expect(TickDelta.unscaled(UInt64.max) == nil)
    }

    @Test func aChangedExponentOrASequenceJumpFallsBackToAKeyframe() throws {
        var fx = Self.aapl
        fx.priceExponent = -4
        fx.sequence += 1
        var skip = Self.aapl
        skip.sequence += 5
        let bytes = message([(fx, Self.aapl), (skip, fx)])
        var d = TickDeltaDecoder()
        #expect(try d.decodeMessage(bytes).ticks == [fx, skip])
    }

    @Test func deltaWithoutKeyframeIsMissingKeyframe() {
        var next = Self.aapl
        next.sequence += 1
        #expect(error(message([(next, Self.aapl)])) == .missingKeyframe(record: 0, symbolId: 0))
    }

    @Test func headerErrors() {
        var bytes = message([(Self.aapl, nil)])
        #expect(error(Array(bytes[0..<15])) == .truncatedHeader(length: 15))
        bytes[0] = 9
        #expect(error(bytes) == .unsupportedVersion(9))
        bytes[0] = 1
        bytes[1] = 7
        #expect(error(bytes) == .unknownMessageType(7))
        bytes[1] = 2
        bytes[4] = 64
        #expect(error(bytes) == .badRecordSize(64))
    }

    @Test func countMismatches() {
        var bytes = message([(Self.aapl, nil)])
        bytes[2] = 2
        #expect(error(bytes) == .truncated(record: 1))
        bytes[2] = 0
        #expect(error(bytes) == .trailingBytes(16))
    }

    @Test func varintOverflowAndReservedBits() {
        var header = message([])
        header[2] = 1
        #expect(error(header + [0xff, 0xff, 0xff, 0xff, 0x1f, 0x01]) == .varintOverflow(record: 0))  // symbol > u32
        #expect(error(header + [0x00, 0x01] + Array(repeating: 0xff, count: 9) + [0x02]) == .varintOverflow(record: 0))
        #expect(error(header + [0x00, 0x01] + Array(repeating: 0x80, count: 12)) == .varintOverflow(record: 0))
        #expect(error(header + [0x00, 0x03]) == .reservedBits(record: 0))
    }

    @Test func anErrorForgetsEverySymbol() throws {
        var d = TickDeltaDecoder()
        _ = try d.decodeMessage(message([(Self.aapl, nil)]))
        #expect(d.symbolCount == 1 && d.reference(0) == Self.aapl)
        #expect(throws: TickDeltaError.self) { _ = try d.decodeMessage([1, 2, 1, 0, 0, 0, 0, 0] + Array(repeating: 0, count: 8)) }
        #expect(d.symbolCount == 0 && d.reference(0) == nil)
    }

    @Test func streamDecoderReadsBothEncodings() throws {
        var raw: [UInt8] = []
        TickWire.appendHeader(recordCount: 1, sendTimeNs: Self.send, to: &raw)
        TickWire.appendRecord(Self.aapl, to: &raw)
        var d = TickStreamDecoder()
        #expect(try d.decodeMessage(raw).ticks == [Self.aapl])
        #expect(try d.decodeMessage(message([(Self.aapl, nil)])).ticks == [Self.aapl])
    }

    /// Random walks of ticks, split into messages, round-trip exactly.
    @Test func randomWalkRoundTrips() throws {
        var rng = SystemRandomNumberGenerator()
        var refs: [UInt32: Tick] = [:]
        var d = TickDeltaDecoder()
        var ticks: [UInt32: Tick] = [:]
        for _ in 0..<200 {
            var records: [(Tick, Tick?)] = []
            var want: [Tick] = []
            for _ in 0..<Int.random(in: 0...20, using: &rng) {
                let id = UInt32.random(in: 0..<8, using: &rng)
                var t = ticks[id] ?? Tick(symbolId: id, priceExponent: -2, sequence: 0, eventTimeNs: Self.send,
                                          bid: 10_000, ask: 10_002, last: 10_001, bidSize: 100, askSize: 100, lastSize: 100)
                let count = Bool.random(using: &rng) ? 0 : UInt32.random(in: 0...5, using: &rng)
                t.sequence += 1 + UInt64(count)
                t.conflatedCount = count
                t.flags = count > 0 ? .conflated : []
                t.eventTimeNs = Self.send &+ UInt64.random(in: 0...20_000_000, using: &rng) &- 10_000_000
                let spread = t.ask - t.bid
                if Bool.random(using: &rng) { t.bid += Int64.random(in: -50...50, using: &rng) }
                t.ask = Bool.random(using: &rng) ? t.bid + Int64.random(in: 0...9, using: &rng) : t.bid + spread
                if Bool.random(using: &rng) { t.last = Int64.random(in: t.bid...t.ask, using: &rng) } else { t.last = min(max(t.last, t.bid), t.ask) }
                if Bool.random(using: &rng) { t.bidSize = 100 * UInt32.random(in: 1...10, using: &rng) }
                if Bool.random(using: &rng) { t.lastSize = UInt32.random(in: 1...100_000, using: &rng) }
                ticks[id] = t
                records.append((t, refs[id]))
                refs[id] = t
                want.append(t)
            }
            #expect(try d.decodeMessage(message(records)).ticks == want)
        }
    }
}
