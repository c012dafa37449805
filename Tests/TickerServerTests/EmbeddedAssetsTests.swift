import Foundation
import Testing
@testable import TickerServer

/// The binary carries copies of the symbol universe and the dashboard; they
/// must be the files in the repository (run Scripts/embed-assets.py after editing).
@Suite struct EmbeddedAssetsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The file without its trailing newlines, as the generator embeds it.
    func file(_ path: String) throws -> String {
        var text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    @Test func symbolsMatchTheFixture() throws {
        #expect(EmbeddedAssets.symbolsCSV == (try file("Fixtures/symbols.csv")),
                "stale: run python3 Scripts/embed-assets.py")
    }

    @Test func dashboardMatchesItsSource() throws {
        #expect(EmbeddedAssets.dashboardHTML == (try file("Sources/TickerServer/Dashboard/index.html")),
                "stale: run python3 Scripts/embed-assets.py")
    }
}
