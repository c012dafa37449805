import Testing
@testable import MarketData

/// The stateless ingest rules, byte by byte: each case starts from a valid
/// two-record message and breaks exactly one field of the header or of
/// record 1, so the reported index is checked too.
@Suite struct IngestValidatorTests {
    static let table = SymbolTable(symbols: [
        SymbolInfo(id: 0, symbol: "AAPL", price: 227.5, volatility: 0.2, tickSize: 0.01, lotSize: 100),
        SymbolInfo(id: 1, symbol: "EURUSD", price: 1.0842, volatility: 0.07, tickSize: 0.0001, lotSize: 100_000),
        SymbolInfo(id: 2, symbol: "BRK.A", price: 650_000, volatility: 0.2, tickSize: 1, lotSize: 1),
    ])

    static let ticks = [
        Tick(symbolId: 0, priceExponent: -2, sequence: 7, eventTimeNs: 1, bid: 22749, ask: 22751, last: 22750,
             bidSize: 1, askSize: 2, lastSize: 3),
        Tick(symbolId: 1, priceExponent: -4, sequence: 1, eventTimeNs: 2, bid: 10841, ask: 10842, last: 10841,
             bidSize: 1, askSize: 2, lastSize: 3),
    ]

    static func message(_ ticks: [Tick] = ticks) -> [UInt8] {
        var bytes: [UInt8] = []
        TickWire.appendHeader(recordCount: ticks.count, sendTimeNs: 99, to: &bytes)
        for tick in ticks { TickWire.appendRecord(tick, to: &bytes) }
        return bytes
    }

    /// Offset of `field` in record 1 of `message()`.
    static func record1(_ field: Int) -> Int { TickWire.headerSize + TickWire.recordSize + field }

    func rejection(_ bytes: [UInt8]) -> IngestRejection? {
        do {
            _ = try IngestValidator.validate(bytes, symbols: Self.table)
            return nil
        } catch {
            return error
        }
    }

    func patched(_ offset: Int, _ values: [UInt8]) -> [UInt8] {
        var bytes = Self.message()
        bytes.replaceSubrange(offset..<(offset + values.count), with: values)
        return bytes
    }

    func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    @Test func validMessageYieldsItsRecords() throws {
        #expect(try IngestValidator.validate(Self.message(), symbols: Self.table) == Self.ticks)
    }

    /// The server's form appends to a shared array, leaves it untouched on a
    /// refusal, and the valid records' bytes are exactly their re-encoding
    /// (which is why ingest forwards the publisher's bytes as they came).
    @Test func appendingFormKeepsEarlierRecordsAndBytesNeedNoReencoding() throws {
        var gathered = [Self.ticks[1]]
        let message = Self.message()
        let n = try message.withUnsafeBytes { raw in
            try IngestValidator.validate(raw, symbols: Self.table, appendingTo: &gathered)
        }
        #expect(n == 2)
        #expect(gathered == [Self.ticks[1]] + Self.ticks)
        var reencoded: [UInt8] = []
        for tick in gathered.suffix(2) { TickWire.appendRecord(tick, to: &reencoded) }
        #expect(Array(message[TickWire.headerSize...]) == reencoded)

        let bad = patched(Self.record1(4), [1])   // record 1 sets a flag
        #expect(throws: IngestRejection.self) {
            try bad.withUnsafeBytes { raw in
                _ = try IngestValidator.validate(raw, symbols: Self.table, appendingTo: &gathered)
            }
        }
        #expect(gathered == [Self.ticks[1]] + Self.ticks)
    }

    @Test func headerProblemsAreMalformedMessages() {
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("short header", Array(Self.message().prefix(15))),
            ("version 2", patched(0, [2])),
            ("type 2", patched(1, [2])),
            ("zero records", Array(patched(2, le(UInt16(0))).prefix(TickWire.headerSize))),
            ("record size 72", patched(4, le(UInt16(72))) + Array(repeating: 0, count: 16)),
            ("record size 32", patched(4, le(UInt16(32)))),
            ("header reserved", patched(6, [0, 1])),
            ("one byte too many", Self.message() + [0]),
            ("one byte short", Array(Self.message().dropLast())),
            ("count says 3", patched(2, le(UInt16(3)))),
        ]
        for (name, bytes) in cases {
            let r = rejection(bytes)
            #expect(r?.reason == .malformed, "\(name): \(String(describing: r))")
            #expect(r?.recordIndex == nil, "\(name)")
            #expect(r?.reason.code == .badRequest)
        }
    }

    @Test func everyRecordRuleNamesRecordAndSymbol() {
        let cases: [(String, [UInt8], IngestRejection.Reason)] = [
            ("symbol out of range", patched(Self.record1(0), le(UInt32(3))), .unknownSymbol),
            ("reserved low byte", patched(Self.record1(6), [1]), .reserved),
            ("reserved high byte", patched(Self.record1(7), [0x80]), .reserved),
            ("snapshot flag", patched(Self.record1(4), [TickFlags.snapshot.rawValue]), .flags),
            ("conflated flag", patched(Self.record1(4), [TickFlags.conflated.rawValue]), .flags),
            ("reserved flag bit", patched(Self.record1(4), [0x80]), .flags),
            ("conflated count", patched(Self.record1(60), le(UInt32(3))), .conflatedCount),
            ("exponent -2 on a -4 symbol", patched(Self.record1(5), [UInt8(bitPattern: -2)]), .exponent),
            ("sequence 0", patched(Self.record1(8), le(UInt64(0))), .sequenceRange),
            ("sequence 2^53 + 1", patched(Self.record1(8), le(IngestValidator.maxSequence + 1)), .sequenceRange),
            ("sequence 2^64 - 1", patched(Self.record1(8), le(UInt64.max)), .sequenceRange),
            ("bid above ask", patched(Self.record1(24), le(Int64(10843))), .crossedBook),
        ]
        for (name, bytes, reason) in cases {
            let r = rejection(bytes)
            #expect(r?.reason == reason, "\(name): \(String(describing: r))")
            #expect(r?.recordIndex == 1, "\(name)")
            if reason != .unknownSymbol { #expect(r?.symbolId == 1, "\(name)") }
            #expect(r?.reason.code == (reason == .unknownSymbol ? .unknownSymbol : .badRecord), "\(name)")
        }
    }

    @Test func edgeValuesThatAreAllowed() {
        #expect(rejection(patched(Self.record1(8), le(IngestValidator.maxSequence))) == nil, "2^53 itself")
        #expect(rejection(patched(Self.record1(24), le(Int64(10842)))) == nil, "bid == ask (locked book)")
        #expect(rejection(patched(Self.record1(32), le(Int64(0)))) == nil, "one-sided: no ask")
        #expect(rejection(patched(Self.record1(24), le(Int64(0)))) == nil, "one-sided: no bid")
        #expect(rejection(patched(8, le(UInt64.max))) == nil, "sendTimeNs is restamped by the server")
        #expect(IngestValidator.maxSequence == 9_007_199_254_740_992)
    }

    @Test func firstBrokenRecordIsReported() {
        var ticks = Self.ticks
        ticks[0].bid = ticks[0].ask + 1
        ticks[1].flags = .snapshot
        let r = rejection(Self.message(ticks))
        #expect(r?.reason == .crossedBook)
        #expect(r?.recordIndex == 0)
    }

    @Test func rejectionBecomesAnErrorNamingRecordSymbolAndReason() {
        let r = IngestRejection(.sequenceGap, recordIndex: 4, symbolId: 1, detail: "expected sequence 8, got 12")
        let error = r.controlError(symbols: Self.table)
        #expect(error.code == .sequenceGap)
        #expect(error.symbols == ["EURUSD"])
        #expect(error.message == "message rejected, record 4 (EURUSD): expected sequence 8, got 12")
        let unknown = IngestRejection(.unknownSymbol, recordIndex: 0, symbolId: 77, detail: "out of range")
        #expect(unknown.controlError(symbols: Self.table).symbols == nil)
        #expect(unknown.controlError(symbols: Self.table).message.contains("symbol id 77"))
        #expect(IngestRejection(.malformed, detail: "x").controlError(symbols: Self.table).code == .badRequest)
    }

    @Test func reasonsHaveStableLabelsAndCodes() {
        #expect(IngestRejection.Reason.allCases.map(\.rawValue) == [
            "malformed", "unknown_symbol", "flags", "conflated_count", "reserved", "exponent", "crossed_book",
            "sequence_range", "symbol_owned", "sequence_stale", "sequence_gap", "forbidden",
        ])
        #expect(IngestRejection.Reason.forbidden.code.rawValue == "forbidden")
        #expect(IngestRejection.Reason.symbolOwned.code.rawValue == "symbol_owned")
        #expect(IngestRejection.Reason.sequenceStale.code.rawValue == "sequence_stale")
        #expect(IngestRejection.Reason.sequenceGap.code.rawValue == "sequence_gap")
        #expect(IngestRejection.Reason.exponent.code.rawValue == "bad_record")
    }
}
