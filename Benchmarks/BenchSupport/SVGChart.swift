import Foundation

/// A hand-written two-axis line chart (no dependencies): x = clients (log
/// scale), left axis throughput, right axis p99 latency.
public enum SVGChart {
    public struct Point: Sendable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    public static func dualAxis(
        title: String, xLabel: String,
        left: (label: String, points: [Point]), right: (label: String, points: [Point])
    ) -> String {
        let width = 720.0, height = 420.0
        let pl = 80.0, pr = 80.0, pt = 50.0, pb = 60.0
        let xs = (left.points + right.points).map(\.x).filter { $0 > 0 }
        let minX = log10(xs.min() ?? 1), maxX = max(log10(xs.max() ?? 10), minX + 1e-9)
        func px(_ x: Double) -> Double { pl + (log10(max(x, 1e-9)) - minX) / (maxX - minX) * (width - pl - pr) }
        func scale(_ pts: [Point]) -> (Double) -> Double {
            let top = max(pts.map(\.y).max() ?? 1, 1e-9) * 1.1
            return { y in height - pb - y / top * (height - pt - pb) }
        }
        let ly = scale(left.points), ry = scale(right.points)
        let leftTop = (left.points.map(\.y).max() ?? 1) * 1.1, rightTop = (right.points.map(\.y).max() ?? 1) * 1.1
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="24" text-anchor="middle" font-size="15">\(escape(title))</text>
        <line x1="\(pl)" y1="\(height - pb)" x2="\(width - pr)" y2="\(height - pb)" stroke="black"/>
        <line x1="\(pl)" y1="\(pt)" x2="\(pl)" y2="\(height - pb)" stroke="#1f6feb"/>
        <line x1="\(width - pr)" y1="\(pt)" x2="\(width - pr)" y2="\(height - pb)" stroke="#d1242f"/>
        <text x="\(width / 2)" y="\(height - 15)" text-anchor="middle">\(escape(xLabel))</text>
        <text transform="translate(18,\(height / 2)) rotate(-90)" text-anchor="middle" fill="#1f6feb">\(escape(left.label))</text>
        <text transform="translate(\(width - 14),\(height / 2)) rotate(90)" text-anchor="middle" fill="#d1242f">\(escape(right.label))</text>

        """
        for i in 0...4 {
            let f = Double(i) / 4
            let y = height - pb - f * (height - pt - pb)
            svg += "<line x1=\"\(pl)\" y1=\"\(y)\" x2=\"\(width - pr)\" y2=\"\(y)\" stroke=\"#eee\"/>\n"
            svg += "<text x=\"\(pl - 6)\" y=\"\(y + 4)\" text-anchor=\"end\" fill=\"#1f6feb\">\(short(leftTop * f))</text>\n"
            svg += "<text x=\"\(width - pr + 6)\" y=\"\(y + 4)\" fill=\"#d1242f\">\(short(rightTop * f))</text>\n"
        }
        for x in Set(xs).sorted() {
            svg += "<text x=\"\(px(x))\" y=\"\(height - pb + 18)\" text-anchor=\"middle\">\(short(x))</text>\n"
        }
        func polyline(_ pts: [Point], _ y: (Double) -> Double, _ color: String) -> String {
            let coords = pts.sorted { $0.x < $1.x }.map { "\(px($0.x)),\(y($0.y))" }.joined(separator: " ")
            var out = "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coords)\"/>\n"
            for p in pts { out += "<circle cx=\"\(px(p.x))\" cy=\"\(y(p.y))\" r=\"3\" fill=\"\(color)\"/>\n" }
            return out
        }
        svg += polyline(left.points, ly, "#1f6feb")
        svg += polyline(right.points, ry, "#d1242f")
        return svg + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// 1234567 -> "1.23M", 0.42 -> "0.42".
    public static func short(_ v: Double) -> String {
        let a = abs(v)
        func fmt(_ x: Double, _ suffix: String) -> String {
            let rounded = (x * 100).rounded() / 100
            return (rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)) + suffix
        }
        if a >= 1e9 { return fmt(v / 1e9, "G") }
        if a >= 1e6 { return fmt(v / 1e6, "M") }
        if a >= 1e3 { return fmt(v / 1e3, "k") }
        return fmt(v, "")
    }
}
