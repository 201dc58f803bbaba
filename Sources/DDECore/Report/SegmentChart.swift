import Foundation

/// The segment experiment's chart (the paper's Fig. 3; `scripts/segments.sh`): each segment's
/// fine-tune drawn as a horizontal bar over the t it trained on, at its change of the labelling
/// annotator's mean against the base (means over seeds), with the base at 0.
public enum SegmentChart {
    /// The SVG, or nil when no row was trained on a `compare.t_range` segment.
    public static func svg(_ rows: [ReportRow], T: Int) -> String? {
        let aggregates = ComparisonReport.aggregate(rows).filter {
            $0.method != "base" && $0.train == $0.eval && $0.setting.contains("t_range=")
        }
        guard !aggregates.isEmpty else { return nil }
        var series: [SVGLineChart.Series] = []
        for a in aggregates {
            guard let text = a.setting.split(separator: " ").first(where: { $0.hasPrefix("t_range=") })?.dropFirst(8),
                  let range = try? TimestepRange.parse(String(text), T: T), let change = a.change else { continue }
            let label = String(format: "%@ %@ %@: %+.1f%% [%+.1f, %+.1f]", a.method, a.train, String(text), change,
                               a.changeLow ?? .nan, a.changeHigh ?? .nan)
            series.append(.init(label, [(Double(range.first - 1) / Double(T), change), (Double(range.last) / Double(T), change)]))
        }
        series.append(.init("base", [(0, 0), (1, 0)]))
        return SVGLineChart(title: "Segment training: change vs base of the annotator that labelled the pairs",
                            xLabel: "t / T of the segment trained on (1 = noisiest)", yLabel: "change vs base, %",
                            series: series).render()
    }
}
