import Foundation
import MarketData

/// Locates the repository's Fixtures/ folder from this file's path so tests do
/// not depend on the working directory `swift test` is run from.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    /// Hex fixtures are whitespace-insensitive so they can be laid out one record per line.
    static func hexBytes(_ relative: String) throws -> [UInt8] {
        let digits = try text(relative).filter { !$0.isWhitespace }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { throw FixtureError.badHex(relative) }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// The default universe the server compiles in (Sources/TickerServer/Universe/symbols.csv).
    static func symbols() throws -> SymbolTable {
        try SymbolTable(csv: String(contentsOf: root.deletingLastPathComponent()
            .appendingPathComponent("Sources/TickerServer/Universe/symbols.csv"), encoding: .utf8))
    }

    enum FixtureError: Error {
        case badHex(String)
    }
}

/// The ticks encoded in Fixtures/golden/tick_batch.hex (see make_tick_batch.py there).
enum GoldenTicks {
    static let sendTimeNs: UInt64 = 1_717_171_200_123_456_789
    static let ticks: [Tick] = [
        Tick(
            symbolId: 0, priceExponent: -2, sequence: 1001, eventTimeNs: 1_717_171_200_000_001_000,
            bid: 22749, ask: 22751, last: 22750, bidSize: 300, askSize: 500, lastSize: 100),
        Tick(
            symbolId: 1, flags: .snapshot, priceExponent: -2, sequence: 77, eventTimeNs: 1_717_171_200_000_002_000,
            bid: 41518, ask: 41521, last: 41521, bidSize: 200, askSize: 100, lastSize: 200),
        Tick(
            symbolId: 142, flags: .conflated, priceExponent: -4, sequence: 5012,
            eventTimeNs: 1_717_171_200_050_000_000, bid: 10841, ask: 10842, last: 10841,
            bidSize: 1_000_000, askSize: 2_500_000, lastSize: 100_000, conflatedCount: 3),
        Tick(
            symbolId: 519, flags: [.snapshot, .conflated], priceExponent: -2, sequence: (1 << 40) + 5,
            eventTimeNs: 1_717_171_200_123_000_000, bid: 1, ask: 4, last: 1,
            bidSize: .max, askSize: 1000, lastSize: 500, conflatedCount: 65_536),
    ]
}
