import HTTP

/// One file of the dashboard as the server sends it.
public struct DashboardAsset: Sendable {
    public let contentType: String
    public let body: [UInt8]
    /// A strong validator derived from the bytes, so a browser revalidates
    /// with `If-None-Match` and gets `304` until the binary changes.
    public let etag: String
    /// Served with `Access-Control-Allow-Origin: *`, so a page of any origin
    /// may `import` it. Only for a file meant as a public integration surface
    /// (the JavaScript client); the page's own modules stay same-origin.
    public let crossOrigin: Bool

    init(contentType: String, body: [UInt8], crossOrigin: Bool = false) {
        self.contentType = contentType
        self.body = body
        self.etag = "\"\(Self.fnv1a64(body))\""
        self.crossOrigin = crossOrigin
    }

    /// FNV-1a, 64-bit, as 16 hex digits: not a security hash, only a cheap
    /// fingerprint that changes whenever the file does.
    static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The dashboard (Sources/Dashboard/Assets/), compiled into the binary
/// by SwiftPM (`.embedInCode` in Package.swift gives `PackageResources`), so
/// the server needs no files at run time. The page is `/`; its stylesheet
/// and script modules are `/assets/<file>`. Only the paths in this table are
/// ever served: a lookup, not a file-system path, so no traversal reaches
/// anything else. `/assets/ticker-client.js` (with `/assets/delta.js`, which
/// it imports) is also the JavaScript client for other pages and Node, hence
/// their CORS header.
public enum DashboardAssets {
    static let javaScript = "text/javascript; charset=utf-8"   // RFC 9239

    public static let byPath: [String: DashboardAsset] = {
        let page = DashboardAsset(contentType: "text/html; charset=utf-8", body: PackageResources.index_html)
        return [
            "/": page,
            "/index.html": page,
            "/assets/dashboard.css": DashboardAsset(contentType: "text/css; charset=utf-8", body: PackageResources.dashboard_css),
            // The JavaScript client (docs/CLIENT.md): the dashboard runs on it,
            // and pages of other origins import it from here.
            "/assets/ticker-client.js": DashboardAsset(
                contentType: javaScript, body: PackageResources.ticker_client_js, crossOrigin: true),
            // Its delta decoder, the one module it imports: an importing page
            // of another origin fetches it too.
            "/assets/delta.js": DashboardAsset(contentType: javaScript, body: PackageResources.delta_js, crossOrigin: true),
            "/assets/state.js": DashboardAsset(contentType: javaScript, body: PackageResources.state_js),
            "/assets/charts.js": DashboardAsset(contentType: javaScript, body: PackageResources.charts_js),
            "/assets/render.js": DashboardAsset(contentType: javaScript, body: PackageResources.render_js),
            "/assets/stream.js": DashboardAsset(contentType: javaScript, body: PackageResources.stream_js),
            "/assets/watchlist.js": DashboardAsset(contentType: javaScript, body: PackageResources.watchlist_js),
            "/assets/app.js": DashboardAsset(contentType: javaScript, body: PackageResources.app_js),
        ]
    }()

    /// The answer to a GET of `path`, or nil when it is not a dashboard file.
    /// `Cache-Control: no-cache` lets the browser keep a copy but makes it ask
    /// first; a matching `If-None-Match` (RFC 9110 §13.1.2) gets `304` with no body.
    public static func response(path: String, ifNoneMatch: [String]) -> HTTPResponse? {
        guard let asset = byPath[path] else { return nil }
        // On the 304 too: a revalidated copy must stay importable cross-origin.
        let headers = [("Cache-Control", "no-cache"), ("ETag", asset.etag)]
            + (asset.crossOrigin ? [("Access-Control-Allow-Origin", "*")] : [])
        if matches(ifNoneMatch, etag: asset.etag) {
            return HTTPResponse(status: 304, headers: headers, body: [])
        }
        return HTTPResponse(
            status: 200,
            headers: [("Content-Type", asset.contentType), ("X-Content-Type-Options", "nosniff")] + headers,
            body: asset.body)
    }

    /// `If-None-Match` uses the weak comparison: `W/"x"` matches `"x"`, and `*` matches any.
    static func matches(_ fieldValues: [String], etag: String) -> Bool {
        for value in fieldValues {
            for candidate in value.split(separator: ",") {
                var tag = candidate.drop { $0 == " " || $0 == "\t" }
                while let last = tag.last, last == " " || last == "\t" { tag = tag.dropLast() }
                if tag == "*" { return true }
                if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
                if tag == etag { return true }
            }
        }
        return false
    }
}
