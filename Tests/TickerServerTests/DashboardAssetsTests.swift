import Dashboard
import Foundation
import HTTP
import Testing
import WebSocketProtocol
@testable import TickerServer

/// The dashboard's files and the default universe are compiled in by SwiftPM
/// (`.embedInCode`); these tests check the table that serves them, without sockets.
@Suite struct DashboardAssetsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let dashboard = root.appendingPathComponent("Sources/Dashboard/Assets")

    func header(_ response: HTTPResponse, _ name: String) -> String? {
        response.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    @Test func everyFileInTheDashboardFolderIsServedWithItsBytesAndType() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dashboard.path).sorted()
        #expect(files.contains("index.html") && files.contains("ticker-client.js"))
        for file in files {
            let path = file == "index.html" ? "/" : "/assets/" + file
            let response = try #require(DashboardAssets.response(path: path, ifNoneMatch: []), "\(file) is not served")
            #expect(response.status == 200)
            #expect(response.body == Array(try Data(contentsOf: Self.dashboard.appendingPathComponent(file))), "\(file)")
            let type = header(response, "Content-Type") ?? ""
            switch file.split(separator: ".").last {
            case "html": #expect(type == "text/html; charset=utf-8")
            case "css": #expect(type == "text/css; charset=utf-8")
            case "js": #expect(type == "text/javascript; charset=utf-8")
            default: Issue.record("unexpected file type: \(file)")
            }
            #expect(header(response, "Cache-Control") == "no-cache")
            #expect(header(response, "X-Content-Type-Options") == "nosniff")
        }
        #expect(DashboardAssets.byPath.count == files.count + 1, "every served path is a file in the folder (plus /index.html)")
    }

    /// The page and its modules only name files the server serves.
    @Test func everyReferenceResolvesToAServedPath() throws {
        let page = String(decoding: try #require(DashboardAssets.byPath["/"]).body, as: UTF8.self)
        #expect(page.contains("href=\"assets/dashboard.css\""))
        #expect(page.contains("<script type=\"module\" src=\"assets/app.js\"></script>"))
        for (path, asset) in DashboardAssets.byPath where path.hasSuffix(".js") {
            let text = String(decoding: asset.body, as: UTF8.self)
            for line in text.split(separator: "\n") where line.contains("from './") {
                let name = line.split(separator: "'")[1].dropFirst(2)
                #expect(DashboardAssets.byPath["/assets/" + name] != nil, "\(path) imports \(name)")
            }
        }
    }

    @Test func aMatchingETagGets304WithoutABody() throws {
        let first = try #require(DashboardAssets.response(path: "/assets/ticker-client.js", ifNoneMatch: []))
        let etag = try #require(header(first, "ETag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count == 18)
        for given in [[etag], ["W/" + etag], ["\"other\", " + etag], ["\"other\"", etag], ["*"]] {
            let again = try #require(DashboardAssets.response(path: "/assets/ticker-client.js", ifNoneMatch: given))
            #expect(again.status == 304, "\(given)")
            #expect(again.body.isEmpty)
            #expect(header(again, "ETag") == etag)
        }
        let stale = try #require(DashboardAssets.response(path: "/assets/ticker-client.js", ifNoneMatch: ["\"0000000000000000\""]))
        #expect(stale.status == 200)
        #expect(header(DashboardAssets.response(path: "/assets/state.js", ifNoneMatch: [])!, "ETag") != etag)
    }

    @Test func unknownAndTraversalPathsAreNotAssets() {
        for path in ["/assets/", "/assets", "/assets/../index.html", "/assets/%2e%2e/x", "/assets/Package.swift",
                     "/ticker-client.js", "/assets/ticker-client.js/", "/assets/TICKER-CLIENT.JS", "/Dashboard/index.html",
                     "/assets/wire.js"] {
            #expect(DashboardAssets.response(path: path, ifNoneMatch: []) == nil, "\(path)")
        }
    }

    @Test func theDefaultUniverseIsTheFileInTheSources() throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent("Sources/TickerServer/Universe/symbols.csv"), encoding: .utf8)
        #expect(SymbolUniverse.defaultCSV == file)
        let table = try SymbolUniverse.load(path: nil)
        #expect(table.count >= 500)
    }
}
