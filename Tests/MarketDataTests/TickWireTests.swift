import Testing
@testable import MarketData

@Suite struct TickWireTests {
    private func encode(_ ticks: [Tick], sendTimeNs: UInt64) -> [UInt8] {
        var buffer: [UInt8] = []
        TickWire.appendHeader(recordCount: ticks.count, sendTimeNs: sendTimeNs, to: &buffer)
        for tick in ticks { TickWire.appendRecord(tick, to: &buffer) }
        return buffer
    }

    private func decodeError(_ bytes: [UInt8]) -> TickWireError? {
        do {
            _ = try TickWire.decodeMessage(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func encodingMatchesGoldenBytes() throws {
        let golden = try Fixtures.hexBytes("golden/tick_batch.hex")
        #expect(golden.count == 16 + 4 * 64)
        #expect(encode(GoldenTicks.ticks, sendTimeNs: GoldenTicks.sendTimeNs) == golden)
    }

    @Test func pointerVariantsMatchArrayVariants() throws {
        let golden = try Fixtures.hexBytes("golden/tick_batch.hex")
        var buffer = [UInt8](repeating: 0xAA, count: TickWire.messageSize(recordCount: GoldenTicks.ticks.count))
        buffer.withUnsafeMutableBytes { raw in
            TickWire.writeHeader(recordCount: GoldenTicks.ticks.count, sendTimeNs: GoldenTicks.sendTimeNs, to: raw.baseAddress!)
            for (index, tick) in GoldenTicks.ticks.enumerated() {
                TickWire.writeRecord(tick, to: raw.baseAddress! + TickWire.headerSize + index * TickWire.recordSize)
            }
        }
        #expect(buffer == golden)
    }

    @Test func decodingGoldenBytesYieldsTheTicks() throws {
        let decoded = try TickWire.decodeMessage(try Fixtures.hexBytes("golden/tick_batch.hex"))
        #expect(decoded.sendTimeNs == GoldenTicks.sendTimeNs)
        #expect(decoded.ticks == GoldenTicks.ticks)
    }

    @Test func roundTripsExtremeValuesAndUnknownFlagBits() throws {
        let ticks = [
            Tick(
                symbolId: .max, flags: TickFlags(rawValue: 0xFF), priceExponent: .min, sequence: .max,
                eventTimeNs: .max, bid: .min, ask: .max, last: -1, bidSize: 0, askSize: .max, lastSize: 1,
                conflatedCount: .max),
            Tick(
                symbolId: 0, priceExponent: 0, sequence: 1, eventTimeNs: 0, bid: 0, ask: 0, last: 0,
                bidSize: 0, askSize: 0, lastSize: 0),
        ]
        let decoded = try TickWire.decodeMessage(encode(ticks, sendTimeNs: 7))
        #expect(decoded.sendTimeNs == 7)
        #expect(decoded.ticks == ticks)
    }

    @Test func emptyBatchIsValid() throws {
        let decoded = try TickWire.decodeMessage(encode([], sendTimeNs: 99))
        #expect(decoded.sendTimeNs == 99)
        #expect(decoded.ticks.isEmpty)
    }

    @Test func decodeRecordReadsUnalignedBytes() {
        var bytes: [UInt8] = [0x00]
        TickWire.appendRecord(GoldenTicks.ticks[2], to: &bytes)
        let tick = bytes.withUnsafeBytes { TickWire.decodeRecord(UnsafeRawBufferPointer(rebasing: $0[1...])) }
        #expect(tick == GoldenTicks.ticks[2])
    }

    @Test func largerRecordSizeIsForwardCompatible() throws {
        // A hypothetical v1 server with 80-byte records: the decoder must skip the tail.
        var bytes: [UInt8] = []
        TickWire.appendHeader(recordCount: 2, sendTimeNs: 5, to: &bytes)
        bytes[4] = 80
        for tick in GoldenTicks.ticks.prefix(2) {
            TickWire.appendRecord(tick, to: &bytes)
            bytes.append(contentsOf: repeatElement(0xEE, count: 16))
        }
        let decoded = try TickWire.decodeMessage(bytes)
        #expect(decoded.ticks == Array(GoldenTicks.ticks.prefix(2)))
    }

    @Test func rejectsMalformedMessages() throws {
        let good = try Fixtures.hexBytes("golden/tick_batch.hex")
        #expect(decodeError([]) == .truncatedHeader(length: 0))
        #expect(decodeError(Array(good.prefix(15))) == .truncatedHeader(length: 15))

        var badVersion = good
        badVersion[0] = 2
        #expect(decodeError(badVersion) == .unsupportedVersion(2))

        var badType = good
        badType[1] = 9
        #expect(decodeError(badType) == .unknownMessageType(9))

        var smallRecords = good
        smallRecords[4] = 32
        #expect(decodeError(smallRecords) == .recordSizeTooSmall(32))

        var badCount = good
        badCount[2] = 5
        #expect(decodeError(badCount) == .lengthMismatch(expected: 16 + 5 * 64, actual: good.count))

        #expect(decodeError(Array(good.dropLast())) == .lengthMismatch(expected: good.count, actual: good.count - 1))
        #expect(decodeError(good + [0]) == .lengthMismatch(expected: good.count, actual: good.count + 1))
    }

    @Test func patchingRewritesOnlyFlagsAndConflatedCount() throws {
        var bytes: [UInt8] = []
        TickWire.appendHeader(recordCount: 2, sendTimeNs: 1, to: &bytes)
        TickWire.appendRecord(GoldenTicks.ticks[0], to: &bytes)
        TickWire.appendRecord(GoldenTicks.ticks[1], to: &bytes)
        let secondRecord = TickWire.headerSize + TickWire.recordSize
        TickWire.patchRecord(in: &bytes, recordOffset: secondRecord, flags: .conflated, conflatedCount: 12)

        var expected = GoldenTicks.ticks[1]
        expected.flags = .conflated
        expected.conflatedCount = 12
        let decoded = try TickWire.decodeMessage(bytes)
        #expect(decoded.ticks == [GoldenTicks.ticks[0], expected])
    }

    @Test func appendDoesNotReallocateWithinReservedCapacity() {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(TickWire.messageSize(recordCount: 100))
        let base = buffer.withUnsafeBufferPointer { $0.baseAddress }
        TickWire.appendHeader(recordCount: 100, sendTimeNs: 0, to: &buffer)
        for _ in 0..<100 { TickWire.appendRecord(GoldenTicks.ticks[0], to: &buffer) }
        #expect(buffer.count == TickWire.messageSize(recordCount: 100))
        #expect(buffer.withUnsafeBufferPointer { $0.baseAddress } == base)
    }
}
