import Foundation

/// An SVG line chart with axes, ticks, axis labels and a legend: the charts of the report and
/// of `inspect schedule`. Plain text, no dependencies; opens in any browser.
public struct SVGLineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Drawn dashed (e.g. a held-out twin of a training series).
        public var dashed: Bool
        /// Index into the palette; nil = the series' position, so twins can share a colour.
        public var colour: Int?
        public init(_ name: String, _ points: [(x: Double, y: Double)], dashed: Bool = false, colour: Int? = nil) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.colour = colour
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logY = false
    /// Stretch the y axis to include 0 (shares, which read wrong from a cut axis).
    public var includeZero = false
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
        // The legend goes under the plot, in two columns when it is long.
        let legendColumns = series.count > 6 ? 2 : 1
        let legendHeight = 18.0 * Double((series.count + legendColumns - 1) / legendColumns)
        let plotW = width - left - right, plotH = height - top - bottom
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
        guard !points.isEmpty else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"60\" font-family=\"sans-serif\" font-size=\"14\"><text x=\"10\" y=\"34\" fill=\"#666\">\(Self.escape(title)): no data</text></svg>\n"
        }
        func ty(_ y: Double) -> Double { logY ? log10(y) : y }
        var (x0, x1) = (points.map(\.x).min()!, points.map(\.x).max()!)
        var (y0, y1) = (points.map { ty($0.y) }.min()!, points.map { ty($0.y) }.max()!)
        if includeZero && !logY { (y0, y1) = (min(y0, 0), max(y1, 0)) }
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
            let colour = Self.palette[(s.colour ?? i) % Self.palette.count]
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            let path = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
                .map { String(format: "%.2f,%.2f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\"\(dash) points=\"\(path)\"/>\n"
            // Few points (a held-out curve, a profile over buckets): mark each, so one point shows.
            if s.points.count <= 40 {
                for p in s.points where p.x.isFinite && p.y.isFinite && (!logY || p.y > 0) {
                    svg += String(format: "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" ", px(p.x), py(p.y)) + "fill=\"\(colour)\"/>"
                }
                svg += "\n"
            }
            let lx = left + Double(i % legendColumns) * plotW / Double(legendColumns)
            let ly = height + 18.0 * Double(i / legendColumns) - 4
            svg += "<line x1=\"\(lx)\" y1=\"\(ly)\" x2=\"\(lx + 24)\" y2=\"\(ly)\" stroke=\"\(colour)\" stroke-width=\"3\"\(dash)/>"
            svg += "<text x=\"\(lx + 30)\" y=\"\(ly + 4)\">\(Self.escape(s.name))</text>\n"
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
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
