import Foundation

/// The report's charts (testbed.md, "The paper's figures, as outputs"; losses.md, "What to log"),
/// read from the files each fine-tune folder `<out>/train-<method>-<annotator>-s<seed>/` holds:
/// `metrics.csv` (per step), `heldout.csv` (held-out pairs every few steps), `record-history.csv`
/// (the whole DDE record every few steps), `record.csv` (the final record with C_t) and
/// `credit.csv` (per t-bucket on a probe batch every K steps).
///
/// Every reader tolerates a missing file, column or field: a run without it contributes no
/// series, and a chart without any series renders as "no data" with a caption that names the
/// file it wanted. So the page can be made from folders of older builds.
public enum ReportCharts {
    /// One chart of the page: its SVG file name (in `report/`), the SVG and a one-sentence caption.
    public struct Chart: Sendable {
        public let file: String
        public let title: String
        public let svg: String
        public let caption: String
        public let hasData: Bool
    }

    /// A fine-tune's folder, as the charts read it.
    public struct TrainedRun: Sendable {
        public let run: Comparison.Run
        public let folder: String

        /// The folder the main job gives `run` (`Comparison.fineTune`): `<out>/train-<run.name>`.
        public init(_ run: Comparison.Run, layout: RunLayout) {
            self.run = run
            folder = layout.train(run.name)
        }

        public var method: String { run.method }
        public var annotator: String { run.annotator }
        public var seed: Int { run.seed }
        /// The series label: `method/annotator/sN`, then the grid point in a sweep.
        public var label: String { "\(method)/\(annotator)/s\(seed)" + (run.setting.isEmpty ? "" : " " + run.setting) }
        /// Whether the run's loss keeps a DDE record (dde, dde-step; not dde-single).
        public var keepsRecord: Bool { PreferenceLoss.Kind(rawValue: method)?.usesRecord ?? false }
        func table(_ file: String) -> CSVTable? { CSVTable.load(folder + "/" + file) }
    }

    /// Every chart of the page, in page order.
    public static func all(_ runs: [TrainedRun]) -> [Chart] {
        [curve(runs, column: "loss", file: "loss.svg", title: "Loss", yLabel: "loss",
               caption: "The fine-tuning loss per run (solid: training batches, moving average; dashed: held-out pairs); "
                   + "a training curve falling while the held-out one stays flat is overfitting to the pairs."),
         curve(runs, column: "implicit_acc", file: "implicit-accuracy.svg", title: "Implicit accuracy", yLabel: "share of pairs with D < 0",
               caption: "The share of pairs the model prefers more than the reference does (D < 0, ties half) on training "
                   + "batches (solid, moving average) and on held-out pairs (dashed); held-out accuracy above 0.5 and rising "
                   + "means the preference generalises."),
         curve(runs, column: "z", file: "z.svg", title: "Mean z", yLabel: "mean z",
               caption: "The mean margin z on training batches (solid, moving average) and held-out pairs (dashed); "
                   + "look for z growing steadily rather than jumping, which would show beta or the learning rate is too large.")]
            + record(runs) + credit(runs) + [heldoutByT(runs)]
    }

    // MARK: Held-out accuracy by t

    /// Per method, the mean over its runs of the held-out implicit accuracy per tenth of 1..T at
    /// the last logged step (`heldout-by-t.csv`; x = the tenth's centre).
    public static func heldoutByMethod(_ runs: [TrainedRun]) -> [SVGLineChart.Series] {
        var methods: [String] = []
        for r in runs where !methods.contains(r.method) { methods.append(r.method) }
        return methods.compactMap { m in
            var sums: [Double: (total: Double, n: Int)] = [:]
            for r in runs where r.method == m {
                guard let table = r.table("heldout-by-t.csv"), let last = table.numbers("step").compactMap({ $0 }).max() else { continue }
                let steps = table.numbers("step"), lows = table.numbers("t_low"), highs = table.numbers("t_high")
                let accuracy = table.numbers("accuracy")
                for i in table.rows.indices where steps[i] == last {
                    guard let lo = lows[i], let hi = highs[i], let a = accuracy[i] else { continue }
                    sums[(lo + hi) / 2, default: (0, 0)].total += a
                    sums[(lo + hi) / 2, default: (0, 0)].n += 1
                }
            }
            let points = sums.keys.sorted().map { (x: $0, y: sums[$0]!.total / Double(sums[$0]!.n)) }
            return points.isEmpty ? nil : SVGLineChart.Series(m, points)
        }
    }

    static func heldoutByT(_ runs: [TrainedRun]) -> Chart {
        chart(file: "heldout-by-t.svg", title: "Held-out implicit accuracy by t", xLabel: "t (centre of the tenth)",
              yLabel: "share of pairs with D < 0", series: heldoutByMethod(runs),
              caption: "Per method, at the end of the fine-tune, the share of held-out pairs (every pair at a t in each tenth of "
                  + "1..T, the same t for every method) the model prefers more than the reference does, averaged over its runs; "
                  + "0.5 is the reference. Where a curve stays near 0.5 the steps are under-learned.",
              source: "heldout-by-t.csv")
    }

    // MARK: Training curves

    /// `column` against the step: per run the training value from `metrics.csv` (centred moving
    /// average over 1/20 of the run), and the held-out value from `heldout.csv` dashed in the same
    /// colour.
    static func curve(_ runs: [TrainedRun], column: String, file: String, title: String, yLabel: String, caption: String) -> Chart {
        var series: [SVGLineChart.Series] = []
        for (i, r) in runs.enumerated() {
            let train = r.table("metrics.csv")?.points(x: "step", y: column) ?? []
            if !train.isEmpty { series.append(.init("\(r.label) train", movingAverage(train, window: max(1, train.count / 20)), colour: i)) }
            let held = r.table("heldout.csv")?.points(x: "step", y: column) ?? []
            if !held.isEmpty { series.append(.init("\(r.label) held-out", held, dashed: true, colour: i)) }
        }
        return chart(file: file, title: title, xLabel: "step", yLabel: yLabel, series: series, caption: caption,
                     source: "metrics.csv or heldout.csv with a \(column) column")
    }

    /// The centred moving average over `window` points (fewer at the ends).
    public static func movingAverage(_ points: [(x: Double, y: Double)], window: Int) -> [(x: Double, y: Double)] {
        guard window > 1 else { return points }
        let half = window / 2
        return points.indices.map { i in
            let part = points[max(0, i - half)...min(points.count - 1, i + half)]
            return (points[i].x, part.map(\.y).reduce(0, +) / Double(part.count))
        }
    }

    // MARK: The DDE record

    /// The runs whose record is drawn: the record-keeping runs, cut to one annotator and one seed
    /// (the first annotator, the lowest seed) when there are several; the note says which.
    static func recordRuns(_ runs: [TrainedRun]) -> (runs: [TrainedRun], note: String) {
        let keeping = runs.filter(\.keepsRecord)
        guard let annotator = keeping.first?.annotator, let seed = keeping.map(\.seed).min() else { return ([], "") }
        let chosen = keeping.filter { $0.annotator == annotator && $0.seed == seed }
        let note = chosen.count == keeping.count ? "" : " (the runs on the \(annotator) pairs with seed \(seed); the others look alike)"
        return (chosen, note)
    }

    /// From `record-history.csv`: the correction `C_t = sum over s > t of A[s]` over the logged
    /// steps, one series per t in `at`: what the record adds to z, so its convergence is the
    /// record's (a single entry of a T-entry record is updated a few times per run and says
    /// little). Buckets are equal runs of steps starting at `first_step`; an entry covers them all.
    public static func correctionSeries(_ table: CSVTable?, at points: [Int] = [0, 250, 500, 750]) -> [SVGLineChart.Series] {
        guard let table else { return [] }
        let steps = table.numbers("step"), firsts = table.numbers("first_step"), values = table.numbers("value")
        let rows: [(step: Double, first: Int, value: Double)] = table.rows.indices.compactMap { i in
            guard let s = steps[i], let f = firsts[i], let v = values[i] else { return nil }
            return (s, Int(f), v)
        }
        let starts = Set(rows.map(\.first)).sorted()
        guard let lastStart = starts.last else { return [] }
        let width = starts.count > 1 ? starts[1] - starts[0] : 1
        let T = lastStart + width - 1
        let logged = Set(rows.map(\.step)).sorted()
        return points.filter { $0 < T }.map { t in
            let curve = logged.map { step -> (x: Double, y: Double) in
                let c = rows.filter { $0.step == step }.reduce(0.0) { sum, r in
                    let above = max(0, min(width, r.first + width - 1 - max(t, r.first - 1)))
                    return sum + r.value * Double(above)
                }
                return (step, c)
            }
            return SVGLineChart.Series("C_\(t)", curve)
        }
    }

    /// Per chosen run the record's convergence, then C_t against t at the end of every chosen run.
    static func record(_ runs: [TrainedRun]) -> [Chart] {
        let (chosen, note) = recordRuns(runs)
        let convergence = chosen.map { r in
            chart(file: "record-\(r.run.name).svg", title: "DDE record: \(r.label)", xLabel: "step",
                  yLabel: "C_t = sum over s > t of A[s]", series: correctionSeries(r.table("record-history.csv")),
                  caption: "The correction the record of \(r.label) adds to z at t = 0, 250, 500, 750, over the iterations\(note); "
                      + "a converged record levels off; a curve still growing at the end has not converged.",
                  source: "record-history.csv")
        }
        let correction = chart(file: "correction.svg", title: "C_t at the end", xLabel: "t (first step of the record bucket)",
                               yLabel: "C_t", series: chosen.map { r in
                                   SVGLineChart.Series(r.label, r.table("record.csv")?.points(x: "first_step", y: "C") ?? [])
                               }.filter { !$0.points.isEmpty },
                               caption: "The correction C_t = sum over s > t of the final record A[s]\(note); it is 0 at t = T "
                                   + "and its size at small t shows how much the later steps shift the early steps' margin.",
                               source: "record.csv with a C column")
        guard !chosen.isEmpty else {
            return [chart(file: "record.svg", title: "DDE record", xLabel: "step", yLabel: "record value A", series: [],
                          caption: "The DDE record's convergence; no run of this comparison keeps a record (dde, dde-single, dde-step).",
                          source: "a dde-kind run")]
        }
        return convergence + [correction]
    }

    // MARK: The credit profile

    /// One run's credit profile at its last probe step in `credit.csv`: per t bucket (x = the
    /// bucket's centre) `density * weight`, normalised to sum 1; empty when a column is missing.
    /// `weight` is `grad_norm` (the mean parameter-gradient norm at that bucket's t) or
    /// `mean_abs_dLdD`.
    public static func creditProfile(_ table: CSVTable?, weight: String) -> [(x: Double, y: Double)] {
        guard let table, let last = table.numbers("step").compactMap({ $0 }).max() else { return [] }
        let steps = table.numbers("step"), lows = table.numbers("t_low"), highs = table.numbers("t_high")
        let density = table.numbers("density"), weights = table.numbers(weight)
        let raw: [(x: Double, y: Double)] = table.rows.indices.compactMap { i in
            guard steps[i] == last, let lo = lows[i], let hi = highs[i], let d = density[i], let w = weights[i] else { return nil }
            return ((lo + hi) / 2, d * w)
        }
        let total = raw.map(\.y).reduce(0, +)
        guard total > 0 else { return [] }
        return raw.sorted { $0.x < $1.x }.map { ($0.x, $0.y / total) }
    }

    /// Per method, the bucket-by-bucket mean of its runs' profiles (over every train annotator and
    /// seed), renormalised to sum 1.
    public static func creditByMethod(_ runs: [TrainedRun], weight: String) -> [SVGLineChart.Series] {
        var methods: [String] = []
        for r in runs where !methods.contains(r.method) { methods.append(r.method) }
        return methods.compactMap { m in
            var sums: [Double: (total: Double, n: Int)] = [:]
            for r in runs where r.method == m {
                for p in creditProfile(r.table("credit.csv"), weight: weight) {
                    sums[p.x, default: (0, 0)].total += p.y
                    sums[p.x, default: (0, 0)].n += 1
                }
            }
            let means = sums.keys.sorted().map { (x: $0, y: sums[$0]!.total / Double(sums[$0]!.n)) }
            let total = means.map(\.y).reduce(0, +)
            return total > 0 ? SVGLineChart.Series(m, means.map { ($0.x, $0.y / total) }) : nil
        }
    }

    static func credit(_ runs: [TrainedRun]) -> [Chart] {
        let annotators = Array(Set(runs.map(\.annotator))).sorted().joined(separator: ", ")
        let seeds = Array(Set(runs.map(\.seed))).sorted().map(String.init).joined(separator: ", ")
        let over = "at the last probe step, averaged over the train annotators (\(annotators)) and seeds (\(seeds))"
        return [chart(file: "credit.svg", title: "Credit profile: density x gradient norm", xLabel: "t (bucket centre)",
                      yLabel: "share of credit", series: creditByMethod(runs, weight: "grad_norm"),
                      caption: "Where each loss puts its weight over t: how often it draws t times the parameter-gradient norm there, "
                          + "normalised to sum 1, \(over); Uniform is the reference, and a loss that moves credit to other t differs from it there.",
                      source: "credit.csv with density and grad_norm columns", includeZero: true),
                chart(file: "credit-dLdD.svg", title: "Credit profile: density x |dL/dD|", xLabel: "t (bucket centre)",
                      yLabel: "share of credit", series: creditByMethod(runs, weight: "mean_abs_dLdD"),
                      caption: "The same with the mean |dL/dD_t| in place of the gradient norm, \(over); compared with the chart above "
                          + "it shows how much of the profile comes from the loss itself rather than from how |dD/dθ| varies with t.",
                      source: "credit.csv with density and mean_abs_dLdD columns", includeZero: true)]
    }

    // MARK: Rendering

    static func chart(file: String, title: String, xLabel: String, yLabel: String, series: [SVGLineChart.Series], caption: String,
                      source: String, includeZero: Bool = false) -> Chart {
        let hasData = series.contains { !$0.points.isEmpty }
        var plot = SVGLineChart(title: title, xLabel: xLabel, yLabel: yLabel, series: series)
        plot.includeZero = includeZero
        let svg = plot.render()
        return Chart(file: file, title: title, svg: svg, caption: hasData ? caption : caption + " No data yet: no run folder has \(source).",
                     hasData: hasData)
    }
}
