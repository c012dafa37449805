import Foundation
import GatewayHarness
import Testing

/// docs/ARCHITECTURE.md describes today's code: every backticked
/// `Sources/…` path in it exists, and every type, function or property
/// its "path of a tick" names is declared in Sources (issue 21).
struct ArchitectureDocTests {
    static let root = Repository.root.path

    static func document() throws -> String {
        try String(contentsOfFile: "\(root)/docs/ARCHITECTURE.md", encoding: .utf8)
    }

    /// The text between backticks, in order.
    static func backticked(_ text: Substring) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The package's sources with these suffixes, concatenated (declarations are searched in them).
    static func sources(_ suffixes: [String]) throws -> String {
        var all = ""
        let enumerator = FileManager.default.enumerator(atPath: "\(root)/Sources")
        while let path = enumerator?.nextObject() as? String {
            guard suffixes.contains(where: path.hasSuffix) else { continue }
            all += try String(contentsOfFile: "\(root)/Sources/\(path)", encoding: .utf8) + "\n"
        }
        return all
    }

    @Test func everySourcesPathExistsAndTheDocStaysShort() throws {
        let doc = try Self.document()
        let lines = doc.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(lines <= 350, "docs/ARCHITECTURE.md has \(lines) lines: a newcomer reads it in 20 minutes (at most 350)")
        let paths = Self.backticked(Substring(doc)).filter { $0.hasPrefix("Sources/") }
        #expect(paths.count > 10)
        for path in paths {
            #expect(FileManager.default.fileExists(atPath: "\(Self.root)/\(path)"), "docs/ARCHITECTURE.md names \(path), which does not exist")
        }
    }

    @Test func thePathOfATickNamesDeclaredCode() throws {
        let doc = try Self.document()
        let start = try #require(doc.range(of: "## The path of a tick"))
        let section = doc[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        let names = Self.backticked(section[..<end]).filter { !$0.hasPrefix("Sources/") && !$0.hasPrefix("-") && !$0.contains(" ") }
        #expect(names.count > 20)
        let code = try Self.sources([".swift"])
        // System calls the section names are called from the C shim.
        let shim = try Self.sources([".c", ".h"])
        for name in names {
            let parts = name.split(separator: ".").map(String.init)
            for (i, part) in parts.enumerated() where part.first?.isLetter == true {
                let isType = part.first!.isUppercase && i == 0
                let patterns = isType
                    ? ["class \(part)", "struct \(part)", "enum \(part)", "protocol \(part)", "typealias \(part)"]
                    : ["func \(part)(", "func \(part)<", "var \(part)", "let \(part)", "case \(part)"]
                #expect(patterns.contains { code.contains($0) } || (!isType && shim.contains("\(part)(")), "docs/ARCHITECTURE.md's path of a tick names \(name): no declaration of \(part) in Sources")
            }
        }
    }
}
