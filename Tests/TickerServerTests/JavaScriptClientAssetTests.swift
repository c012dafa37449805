import Dashboard
import Foundation
import HTTP
import Testing
@testable import TickerServer

/// `GET /assets/ticker-client.js`: the JavaScript client (docs/CLIENT.md) is
/// one of the dashboard's modules and also a public integration surface, so
/// a page of any origin may import it (`Access-Control-Allow-Origin: *`)
/// while the WebSocket itself still answers to `--allow-origin`.
@Suite(.serialized) struct JavaScriptClientAssetTests {
    static let path = "/assets/ticker-client.js"
    /// The client's own modules: itself and the delta decoder it imports.
    static let clientPaths: Set<String> = [path, "/assets/delta.js"]

    func header(_ response: HTTPResponse, _ name: String) -> String? {
        response.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// A header field of the raw response in `socket`.
    func field(_ socket: RawSocket, _ name: String) -> String? {
        let head = socket.text.components(separatedBy: "\r\n\r\n")[0]
        for line in head.components(separatedBy: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    func get(_ request: String, port: UInt16) throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write(request)
        #expect(try s.read(timeoutMs: 3_000), "the server answers and closes")
        return s
    }

    @Test func onlyTheClientModuleCarriesTheCORSHeaderAndKeepsItOn304() throws {
        let response = try #require(DashboardAssets.response(path: Self.path, ifNoneMatch: []))
        #expect(response.status == 200)
        #expect(header(response, "Access-Control-Allow-Origin") == "*")
        #expect(header(response, "Content-Type") == "text/javascript; charset=utf-8")
        let etag = try #require(header(response, "ETag"))
        let revalidated = try #require(DashboardAssets.response(path: Self.path, ifNoneMatch: [etag]))
        #expect(revalidated.status == 304)
        #expect(header(revalidated, "Access-Control-Allow-Origin") == "*")
        let delta = try #require(DashboardAssets.response(path: "/assets/delta.js", ifNoneMatch: []))
        #expect(header(delta, "Access-Control-Allow-Origin") == "*", "the module the client imports is importable cross-origin too")
        for (path, asset) in DashboardAssets.byPath where !Self.clientPaths.contains(path) {
            #expect(!asset.crossOrigin, "\(path) stays same-origin")
            let other = try #require(DashboardAssets.response(path: path, ifNoneMatch: []))
            #expect(header(other, "Access-Control-Allow-Origin") == nil, "\(path)")
        }
    }

    /// No imports but the delta decoder (a cross-origin import needs CORS on
    /// every module it pulls in; delta.js has it and imports nothing), and no DOM.
    @Test func theModuleStandsAlone() throws {
        let text = String(decoding: try #require(DashboardAssets.byPath[Self.path]).body, as: UTF8.self)
        let delta = String(decoding: try #require(DashboardAssets.byPath["/assets/delta.js"]).body, as: UTF8.self)
        #expect(text.contains("export class TickerClient extends EventTarget"))
        #expect(delta.contains("export class DeltaDecoder"))
        for (file, source) in [("ticker-client.js", text), ("delta.js", delta)] {
            for line in source.split(separator: "\n") {
                let code = line.drop { $0 == " " }
                if code.hasPrefix("//") || code.hasPrefix("*") || code.hasPrefix("/*") { continue }
                if code.hasPrefix("import ") {
                    #expect(file == "ticker-client.js" && code.hasSuffix("from './delta.js';"), "\(file) imports: \(code)")
                }
                for name in ["document.", "window.", "location."] {
                    #expect(!code.contains(name), "\(file) uses the DOM: \(code)")
                }
            }
        }
    }

    /// Over loopback, from a page of another origin than the allowlisted one:
    /// the module is served with its type and CORS header; the WebSocket
    /// still refuses that origin and accepts a client with no `Origin` (Node).
    @Test func servedCrossOriginOverLoopbackWhileTheStreamKeepsItsAllowlist() async throws {
        try await withServer({ $0.allowedOrigins = ["http://dashboard.example"] }) { server throws in
            let s = try get("GET \(Self.path) HTTP/1.1\r\nHost: x\r\nOrigin: http://other.example\r\n\r\n", port: server.port)
            #expect(s.status == 200)
            #expect(field(s, "Content-Type") == "text/javascript; charset=utf-8")
            #expect(field(s, "Access-Control-Allow-Origin") == "*")
            #expect(field(s, "X-Content-Type-Options") == "nosniff")
            #expect(s.text.contains("export class TickerClient"))
            let etag = try #require(field(s, "ETag"))
            let again = try get("GET \(Self.path) HTTP/1.1\r\nHost: x\r\nOrigin: http://other.example\r\nIf-None-Match: \(etag)\r\n\r\n",
                                port: server.port)
            #expect(again.status == 304)
            #expect(field(again, "Access-Control-Allow-Origin") == "*")
            let head = try get("HEAD \(Self.path) HTTP/1.1\r\nHost: x\r\n\r\n", port: server.port)
            #expect(head.status == 200)
            #expect(field(head, "Access-Control-Allow-Origin") == "*")
            let page = try get("GET /assets/app.js HTTP/1.1\r\nHost: x\r\nOrigin: http://other.example\r\n\r\n", port: server.port)
            #expect(page.status == 200)
            #expect(field(page, "Access-Control-Allow-Origin") == nil, "the page's own modules stay same-origin")

            #expect(try get(upgradeRequest(extra: "Origin: http://other.example\r\n"), port: server.port).status == 403)
            let node = try RawSocket(port: server.port)
            try node.write(upgradeRequest())
            try node.read(timeoutMs: 2_000) { $0.count > 12 }
            #expect(node.status == 101, "a client that sends no Origin (Node's ws) is not a browser page: accepted")
        }
    }
}
