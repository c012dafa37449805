import Foundation
import MarketData
import Testing
import TickerServer

/// Reading a universe file (`--symbols FILE`) happens in the server, through
/// PosixIO; MarketData only parses the text.
@Suite struct SymbolUniverseTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func aFileIsReadAndParsed() throws {
        let path = Self.root.appendingPathComponent("Sources/TickerServer/Universe/symbols.csv").path
        let table = try SymbolUniverse.load(path: path)
        #expect(table.count == (try SymbolUniverse.load(path: nil)).count)
    }

    /// An unreadable file is one sentence naming the path and the system's reason,
    /// never a multi-line error dump.
    @Test func unreadableFilesAreDescribedInOneSentence() throws {
        let missing = "/nonexistent-dir/nope.csv"
        #expect(throws: SymbolTableError.unreadable(path: missing, reason: "no such file or directory")) {
            try SymbolUniverse.load(path: missing)
        }
        let folder = Self.root.appendingPathComponent("Fixtures/golden").path
        #expect(throws: SymbolTableError.unreadable(path: folder, reason: "is a directory")) {
            try SymbolUniverse.load(path: folder)
        }
        let binary = NSTemporaryDirectory() + "symbols-\(getpid())-latin1.csv"
        #expect(FileManager.default.createFile(atPath: binary, contents: Data([0xFF, 0xFE, 0x41, 0xE9])))
        defer { try? FileManager.default.removeItem(atPath: binary) }
        #expect(throws: SymbolTableError.unreadable(path: binary, reason: "not UTF-8 text")) {
            try SymbolUniverse.load(path: binary)
        }
        let empty = NSTemporaryDirectory() + "symbols-\(getpid())-empty.csv"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: SymbolTableError.empty) { try SymbolUniverse.load(path: empty) }
    }
}
