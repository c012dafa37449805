import FanoutHub
import Foundation
import GatewayHarness
import Testing
import TickerServer

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

    /// A `## ` section of the document, without its heading line's `## `.
    static func section(_ doc: String, _ heading: String) throws -> Substring {
        let start = try #require(doc.range(of: "## \(heading)"))
        let section = doc[start.upperBound...]
        return section[..<(section.range(of: "\n## ")?.lowerBound ?? section.endIndex)]
    }

    /// Expects every backticked name in `text` (types, `Type.member`,
    /// members) to be declared in Sources.
    static func expectDeclared(_ text: Substring, in what: String, atLeast: Int) throws {
        let names = backticked(text).filter { !$0.hasPrefix("Sources/") && !$0.hasPrefix("-") && !$0.contains(" ") }
        #expect(names.count > atLeast)
        let code = try sources([".swift"])
        // System calls the section names are called from the C shim.
        let shim = try sources([".c", ".h"])
        for name in names {
            let parts = name.split(separator: ".").map(String.init)
            for (i, part) in parts.enumerated() where part.first?.isLetter == true {
                let isType = part.first!.isUppercase && i == 0
                let patterns = isType
                    ? ["class \(part)", "struct \(part)", "enum \(part)", "protocol \(part)", "typealias \(part)"]
                    : ["func \(part)(", "func \(part)<", "var \(part)", "let \(part)", "case \(part)"]
                #expect(patterns.contains { code.contains($0) } || (!isType && shim.contains("\(part)(")), "docs/ARCHITECTURE.md's \(what) names \(name): no declaration of \(part) in Sources")
            }
        }
    }

    @Test func thePathOfATickNamesDeclaredCode() throws {
        try Self.expectDeclared(try Self.section(Self.document(), "The path of a tick"), in: "path of a tick", atLeast: 20)
    }

    /// The overload table: every type or member its last column names is
    /// declared, every flag is one `ticker serve` takes, and every field of
    /// `OverloadPolicy` and `BacklogPolicy` is in its threshold column.
    @Test func theOverloadTableListsEveryThreshold() throws {
        let rows = try Self.section(Self.document(), "Overload").split(separator: "\n")
            .filter { $0.hasPrefix("| ") && !$0.hasPrefix("| rule ") }
            .map { $0.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.count > 15)
        try Self.expectDeclared(Substring(rows.map { $0[4] }.joined(separator: " ")), in: "overload table", atLeast: 20)
        let serve = try String(contentsOfFile: "\(Self.root)/Sources/ticker/ServeCommand.swift", encoding: .utf8)
        for flag in rows.flatMap({ Self.backticked(Substring($0[3])) }) {
            #expect(serve.contains("\"\(flag)\""), "the overload table names \(flag), which ticker serve does not take")
        }
        let thresholds = rows.map { $0[2] }.joined(separator: " ")
        let fields = Mirror(reflecting: OverloadPolicy()).children.compactMap(\.label)
            + Mirror(reflecting: BacklogPolicy()).children.compactMap(\.label) + ["perConnectionCap"]
        #expect(fields.count > 25)
        for field in fields where field != "backlog" {
            #expect(thresholds.contains("`\(field)`") || thresholds.contains(".\(field)`"),
                    "\(field) (OverloadPolicy) is not in the threshold column of docs/ARCHITECTURE.md's overload table")
        }
    }
}
