import Foundation

/// The comparison's outputs: `report.csv` (one row per method x train annotator x eval
/// annotator, means over seeds) and the table (rows base and the methods, columns the
/// annotators, each model scored by the annotator that labelled its pairs: the paper's layout).
public enum ComparisonReport {
    public static let header = "method,train_annotator,eval_annotator,mean,ci_low,ci_high,change_pct,change_ci_low,change_ci_high,beat_ratio,beat_ci_low,beat_ci_high,seed_spread"
    /// The table's rows: the base, then every loss in `loss=`'s order (the paper's four, its
    /// ablations, the newer losses), so no method a run trained is left out.
    static let methodOrder = ["base"] + PreferenceLoss.Kind.allCases.map(\.rawValue)

    struct Aggregate {
        var method, setting, train, eval: String
        var mean, low, high: Double
        var change, changeLow, changeHigh, beat, beatLow, beatHigh: Double?
        var spread: Double
    }

    /// Rows grouped by (method, train annotator, eval annotator); every number is the mean over
    /// seeds, `seed_spread` the range of the mean across seeds.
    static func aggregate(_ rows: [ReportRow]) -> [Aggregate] {
        var groups: [String: [ReportRow]] = [:], order: [String] = []
        for r in rows {
            let key = "\(r.method)|\(r.setting)|\(r.trainAnnotator)|\(r.evalAnnotator)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        func avg(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
        return order.map { key in
            let g = groups[key]!, c = g.compactMap(\.comparison)
            let means = g.map(\.mean)
            return Aggregate(method: g[0].method, setting: g[0].setting, train: g[0].trainAnnotator, eval: g[0].evalAnnotator, mean: avg(means),
                             low: avg(g.map(\.low)), high: avg(g.map(\.high)),
                             change: c.isEmpty ? nil : avg(c.map(\.changePercent)),
                             changeLow: c.isEmpty ? nil : avg(c.map(\.changeInterval.low)),
                             changeHigh: c.isEmpty ? nil : avg(c.map(\.changeInterval.high)),
                             beat: c.isEmpty ? nil : avg(c.map(\.beatRatio)), beatLow: c.isEmpty ? nil : avg(c.map(\.beatInterval.low)),
                             beatHigh: c.isEmpty ? nil : avg(c.map(\.beatInterval.high)),
                             spread: (means.max() ?? 0) - (means.min() ?? 0))
        }
    }

    public static func csv(_ rows: [ReportRow]) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "" }
        var text = header + "\n"
        for a in aggregate(rows) {
            let change = a.method == "base" ? "0" : f(a.change)
            text += [a.method, a.train, a.eval, f(a.mean), f(a.low), f(a.high), change, a.method == "base" ? "" : f(a.changeLow),
                     a.method == "base" ? "" : f(a.changeHigh), f(a.beat), f(a.beatLow), f(a.beatHigh), f(a.spread)].joined(separator: ",") + "\n"
        }
        return text
    }

    /// A sweep's `sweep.csv`: report.csv's columns with the grid point after the method
    /// (`setting`, e.g. `beta=500 lr=2e-05`) and the number of seeds.
    public static func sweepCSV(_ rows: [ReportRow]) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "" }
        let seeds = Dictionary(grouping: rows, by: { "\($0.method)|\($0.setting)|\($0.trainAnnotator)|\($0.evalAnnotator)" }).mapValues(\.count)
        var text = "method,setting,train_annotator,eval_annotator,mean,ci_low,ci_high,change_pct,change_ci_low,change_ci_high,beat_ratio,seed_spread,seeds\n"
        for a in aggregate(rows) {
            let n = seeds["\(a.method)|\(a.setting)|\(a.train)|\(a.eval)"] ?? 1
            text += [a.method, a.setting, a.train, a.eval, f(a.mean), f(a.low), f(a.high), a.method == "base" ? "0" : f(a.change),
                     f(a.changeLow), f(a.changeHigh), f(a.beat), f(a.spread), String(n)].joined(separator: ",") + "\n"
        }
        return text
    }

    /// The table's columns: the annotators that scored the base, in the order they scored
    /// (the built-in three, then the external ones).
    static func evalAnnotators(_ rows: [ReportRow]) -> [String] {
        var seen: Set<String> = []
        return rows.filter { $0.method == "base" }.map(\.evalAnnotator).filter { seen.insert($0).inserted }
    }

    /// The table's layout: one row per method (or per method and grid point in a sweep) in report
    /// order, base first; columns `evalAnnotators(rows)`; a method's cell under annotator X is its
    /// fine-tune on X's pairs, scored by X (nil where that fine-tune is not in the plan).
    static func layout(_ rows: [ReportRow]) -> [(method: String, setting: String, cells: [Aggregate?])] {
        let aggregates = aggregate(rows)
        var labels: [(method: String, setting: String)] = []
        for m in methodOrder {
            for a in aggregates where a.method == m && !labels.contains(where: { $0 == (m, a.setting) }) { labels.append((m, a.setting)) }
        }
        return labels.map { m, setting in
            (m, setting, evalAnnotators(rows).map { a in
                aggregates.first { $0.method == m && $0.setting == setting && $0.eval == a && ($0.method == "base" || $0.train == a) }
            })
        }
    }

    /// The table: a method's cell under annotator X is its fine-tune on X's pairs, scored by X
    /// (one row per method, or per method and grid point in a sweep).
    public static func table(_ rows: [ReportRow]) -> String {
        let layout = layout(rows)
        let width = 34, first = max(12, layout.map { $0.method.count + $0.setting.count + 3 }.max() ?? 0)
        var text = "method".padding(toLength: first, withPad: " ", startingAt: 0)
            + evalAnnotators(rows).map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }.joined() + "\n"
        for (m, setting, cells) in layout {
            var line = (setting.isEmpty ? m : m + " " + setting).padding(toLength: first, withPad: " ", startingAt: 0)
            for aggregate in cells {
                let cell: String
                if let r = aggregate {
                    if let change = r.change, let lo = r.changeLow, let hi = r.changeHigh, let beat = r.beat {
                        cell = String(format: "%.3f %+.1f%% [%+.1f,%+.1f] b%.2f", r.mean, change, lo, hi, beat)
                    } else {
                        cell = String(format: "%.3f [%.3f,%.3f]", r.mean, r.low, r.high)
                    }
                } else {
                    cell = "-"
                }
                line += cell.padding(toLength: width, withPad: " ", startingAt: 0)
            }
            text += line + "\n"
        }
        return text
    }

    /// `report-dist.csv`: per method and train annotator (means over seeds), the Frechet
    /// distance, the Inception-Score analog and the colour error (sRGB units).
    public static func distributionCSV(_ rows: [(method: String, trainAnnotator: String, seed: Int?, report: DistributionReport)]) -> String {
        var groups: [String: [DistributionReport]] = [:], order: [String] = []
        for r in rows {
            let key = "\(r.method),\(r.trainAnnotator)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r.report)
        }
        var text = "method,train_annotator,fd,is,colour_error\n"
        for key in order {
            let g = groups[key]!, n = Double(g.count)
            text += key + String(format: ",%.6f,%.6f,%.4f\n", g.map(\.fd).reduce(0, +) / n, g.map(\.inceptionScore).reduce(0, +) / n,
                                 g.map(\.colourError).reduce(0, +) / n)
        }
        return text
    }
}
