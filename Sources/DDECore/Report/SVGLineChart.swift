import Foundation

/// An SVG line chart with axes, ticks, axis labels and a legend: the charts of the report and
/// of `inspect schedule`. Plain text, no dependencies; opens in any browser.
public struct SVGLineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(_ name: String, _ points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logY = false
    public var width = 720.0
    public var height = 420.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    public func render() -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
        let legendHeight = 18.0 * Double(series.count)
        let plotW = width - left - right, plotH = height - top - bottom
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
        guard !points.isEmpty else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"60\"><text x=\"10\" y=\"30\">\(Self.escape(title)): no data</text></svg>\n"
        }
        func ty(_ y: Double) -> Double { logY ? log10(y) : y }
        var (x0, x1) = (points.map(\.x).min()!, points.map(\.x).max()!)
        var (y0, y1) = (points.map { ty($0.y) }.min()!, points.map { ty($0.y) }.max()!)
        if x1 == x0 { x0 -= 1; x1 += 1 }
        if y1 == y0 { y0 -= 1; y1 += 1 }
        if !logY { let pad = 0.05 * (y1 - y0); y0 -= pad; y1 += pad }
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (ty(y) - y0) / (y1 - y0)) * plotH }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + legendHeight))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(Self.escape(title))</text>\n"
        // Axes and ticks.
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#444\"/>\n"
        for x in Self.ticks(x0, x1) {
            let p = px(x)
            svg += "<line x1=\"\(p)\" y1=\"\(top + plotH)\" x2=\"\(p)\" y2=\"\(top + plotH + 5)\" stroke=\"#444\"/>"
            svg += "<line x1=\"\(p)\" y1=\"\(top)\" x2=\"\(p)\" y2=\"\(top + plotH)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(p)\" y=\"\(top + plotH + 18)\" text-anchor=\"middle\">\(Self.label(x))</text>\n"
        }
        let yTicks = logY ? Array(Int(floor(y0))...Int(ceil(y1))).map(Double.init).filter { $0 >= y0 - 1e-9 && $0 <= y1 + 1e-9 }
                          : Self.ticks(y0, y1)
        for t in yTicks {
            let p = top + (1 - (t - y0) / (y1 - y0)) * plotH
            svg += "<line x1=\"\(left - 5)\" y1=\"\(p)\" x2=\"\(left)\" y2=\"\(p)\" stroke=\"#444\"/>"
            svg += "<line x1=\"\(left)\" y1=\"\(p)\" x2=\"\(left + plotW)\" y2=\"\(p)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(p + 4)\" text-anchor=\"end\">\(logY ? Self.label(pow(10, t)) : Self.label(t))</text>\n"
        }
        svg += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text x=\"16\" y=\"\(top + plotH / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(top + plotH / 2))\">\(Self.escape(yLabel + (logY ? " (log scale)" : "")))</text>\n"
        // Lines.
        for (i, s) in series.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let path = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
                .map { String(format: "%.2f,%.2f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\" points=\"\(path)\"/>\n"
            let ly = height + 18.0 * Double(i) - 4
            svg += "<line x1=\"\(left)\" y1=\"\(ly)\" x2=\"\(left + 24)\" y2=\"\(ly)\" stroke=\"\(colour)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(left + 30)\" y=\"\(ly + 4)\">\(Self.escape(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// About five round-numbered ticks between lo and hi.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = ceil(lo / step) * step, out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 || abs(v) < 1e-3 { return String(format: "%.0e", v) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
