import Foundation
import Testing
import MarketData

/// Fixtures/golden/delta: bytes from the independent Python encoder
/// (make_delta.py) must decode to the JSON next to them, and the Swift
/// encoder must produce the same bytes from those records.
@Suite struct TickDeltaGoldenTests {
    struct Record: Decodable {
        var symbolId: UInt32, flags: UInt8, priceExponent: Int8, sequence: UInt64, eventTimeNs: UInt64
        var bid: Int64, ask: Int64, last: Int64, bidSize: UInt32, askSize: UInt32, lastSize: UInt32
        var conflatedCount: UInt32, keyframe: Bool

        var tick: Tick {
            Tick(symbolId: symbolId, flags: TickFlags(rawValue: flags), priceExponent: priceExponent,
                 sequence: sequence, eventTimeNs: eventTimeNs, bid: bid, ask: ask, last: last,
                 bidSize: bidSize, askSize: askSize, lastSize: lastSize, conflatedCount: conflatedCount)
        }
    }

    struct Message: Decodable {
        var sendTimeNs: UInt64
        var records: [Record]
    }

    static let cases: [String] = (try? Fixtures.text("golden/delta/cases.txt"))?
        .split(separator: "\n").map(String.init) ?? []

    static func load(_ name: String) throws -> (messages: [[UInt8]], expected: [Message]) {
        let lines = try Fixtures.text("golden/delta/\(name).hex").split(separator: "\n")
        let messages = try lines.map { line in try hex(String(line)) }
        let json = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("golden/delta/\(name).json")))
        return (messages, try JSONDecoder().decode([Message].self, from: json))
    }

    static func hex(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: 2)
            guard let b = UInt8(text[i..<j], radix: 16) else { throw Fixtures.FixtureError.badHex(text) }
            bytes.append(b)
            i = j
        }
        return bytes
    }

    @Test func everyCaseIsListed() {
        #expect(Self.cases.count >= 12)
    }

    @Test(arguments: cases)
    func decodesToTheExpectedRecords(_ name: String) throws {
        let (messages, expected) = try Self.load(name)
        #expect(messages.count == expected.count)
        var decoder = TickDeltaDecoder()
        for (bytes, want) in zip(messages, expected) {
            let (sendTime, ticks) = try decoder.decodeMessage(bytes)
            #expect(sendTime == want.sendTimeNs)
            #expect(ticks == want.records.map(\.tick))
        }
    }

    @Test(arguments: cases)
    func swiftEncoderWritesTheSameBytes(_ name: String) throws {
        let (messages, expected) = try Self.load(name)
        var references: [UInt32: Tick] = [:]
        for (bytes, want) in zip(messages, expected) {
            var out = [UInt8](repeating: 0, count: TickWire.headerSize)
            out.withUnsafeMutableBytes {
                TickDelta.writeHeader(recordCount: want.records.count, sendTimeNs: want.sendTimeNs, to: $0.baseAddress!)
            }
            for record in want.records {
                let tick = record.tick
                TickDelta.appendRecord(tick, reference: record.keyframe ? nil : references[tick.symbolId],
                                       sendTimeNs: want.sendTimeNs, to: &out)
                references[tick.symbolId] = tick
            }
            #expect(out == bytes, "\(name)")
        }
    }

    /// The server's state-free walk (for folding a delta backlog) sees
    /// every record's symbol, flags, count and keyframe sequence.
    @Test(arguments: cases)
    func summariesMatchTheRecords(_ name: String) throws {
        let (messages, expected) = try Self.load(name)
        for (bytes, want) in zip(messages, expected) {
            let summaries = bytes.withUnsafeBytes { TickDelta.summarize($0) }
            #expect(summaries == want.records.map {
                TickDelta.RecordSummary(symbolId: $0.symbolId, keyframeSequence: $0.keyframe ? $0.sequence : nil,
                                        flags: TickFlags(rawValue: $0.flags), conflatedCount: $0.conflatedCount)
            })
            #expect(bytes.dropLast().withUnsafeBytes { TickDelta.summarize(UnsafeRawBufferPointer($0)) } == nil)
        }
    }

    /// Every golden message split into two at every byte: each part alone is
    /// an error, never a record.
    @Test(arguments: cases)
    func everyTruncationIsAnError(_ name: String) throws {
        let (messages, _) = try Self.load(name)
        var decoder = TickDeltaDecoder()
        for bytes in messages {
            for cut in 0..<bytes.count {
                var probe = decoder
                #expect(throws: TickDeltaError.self) { _ = try probe.decodeMessage(bytes[0..<cut]) }
            }
            _ = try decoder.decodeMessage(bytes)
        }
    }
}
