import Foundation
import GatewayHarness
import Testing

/// Issue 25, acceptance 5: the plain client (`TickerClient` product) neither
/// imports nor links OpenSSL, so a package that depends only on it builds
/// without OpenSSL headers; `TickerClientTLS` is the product that does.
/// Read from `swift package describe --type json`, as SwiftPM resolves it.
struct PackageShapeTests {
    struct Description: Decodable {
        struct Target: Decodable {
            var name: String
            var path: String
            var sources: [String]?
            var type: String
            var target_dependencies: [String]?
            var module_type: String
        }
        struct Product: Decodable {
            var name: String
            var targets: [String]
        }
        var targets: [Target]
        var products: [Product]
    }

    static func describe() throws -> Description {
        let root = Repository.root.path
        // A scratch path of its own: `swift test` holds the lock on .build.
        let scratch = NSTemporaryDirectory() + "ticker-describe-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (status, output) = shellOutput("swift package --package-path '\(root)' --scratch-path '\(scratch)' describe --type json 2>/dev/null")
        guard status == 0 else { throw TestError.unmeasurable("swift package describe exited \(status): \(output.prefix(300))") }
        return try JSONDecoder().decode(Description.self, from: Data(output.utf8))
    }

    /// Every target `names` depends on, directly or not, themselves included.
    static func closure(of names: [String], in description: Description) -> [Description.Target] {
        let byName = Dictionary(uniqueKeysWithValues: description.targets.map { ($0.name, $0) })
        var seen: [String] = []
        var queue = names
        while let name = queue.popLast() {
            guard !seen.contains(name), let target = byName[name] else { continue }
            seen.append(name)
            queue += target.target_dependencies ?? []
        }
        return seen.compactMap { byName[$0] }
    }

    @Test(.timeLimit(.minutes(2)))
    func plainClientNeitherImportsNorLinksOpenSSL() throws {
        let description = try Self.describe()
        let plain = try #require(description.products.first { $0.name == "TickerClient" })
        let targets = Self.closure(of: plain.targets, in: description)
        #expect(targets.map(\.name).contains("TickerClient"))
        // No system library (COpenSSL is the only one) and no OpenSSL import in any source.
        #expect(targets.filter { $0.module_type == "SystemLibraryTarget" }.map(\.name) == [])
        #expect(!targets.map(\.name).contains("COpenSSL"))
        for target in targets {
            for file in target.sources ?? [] {
                let text = try String(contentsOfFile: "\(Repository.root.path)/\(target.path)/\(file)", encoding: .utf8)
                #expect(!text.contains("import COpenSSL") && !text.contains("<openssl/"), "\(target.name)/\(file) reaches OpenSSL")
            }
        }

        // The TLS product does reach it, through its own target.
        let tls = try #require(description.products.first { $0.name == "TickerClientTLS" })
        let tlsTargets = Self.closure(of: tls.targets, in: description).map(\.name)
        #expect(tlsTargets.contains("COpenSSL") && tlsTargets.contains("TickerClient"))
    }
}
