// Report: the comparison's outputs. `ReportPage` writes `report.html` and its `report/` folder of
// grids and charts; `ComparisonReport` makes the table and the CSV files from `ReportRow`s;
// `ReportCharts` reads each fine-tune folder's CSV logs (through the tolerant `CSVTable`) into
// `SVGLineChart`s, and `SegmentChart` draws the segment experiment; `VersusMatrix` lays out the
// method-against-method verdicts and `MainJobClaims` tests the paper's claims (`claims.csv`). A
// missing file or column gives a chart with no data, not an error. Builds on Compare, Eval,
// Settings and Stages (`RunLayout`).

import Foundation

/// `report.html` (testbed.md, "The report"): one static page, no JavaScript, that shows the
/// comparison next to the files it came from. Self-contained apart from the PNG grids and SVG
/// charts it links in `report/` beside it (relative paths, so the run folder can be moved).
///
/// Sections, in order: the run (config summary), the table (the same aggregates as
/// `ComparisonReport.table`), the full matrix (`report.csv`), the distribution metrics
/// (`report-dist.csv`), the image grids, the training curves, the DDE record, the credit profile.
public enum ReportPage {
    /// The folder, next to the page, that holds its images and charts.
    public static let folder = "report"
    public static let fileName = "report.html"

    /// What the page shows.
    public struct Contents {
        public var settings: RunSettings
        public var build: BuildInfo?
        public var runs: [ReportCharts.TrainedRun]
        public var rows: [ReportRow]
        public var distribution: [(method: String, trainAnnotator: String, seed: Int?, report: DistributionReport)]
        public var samples: ReportSamples
        /// Every method against every other (`report-versus.csv`).
        public var versus: [VersusRow]
        /// The paper's claims as the run tests them (`claims.csv`).
        public var claims: [Claim]
        /// How many prompts each model was scored on.
        public var evalPrompts: Int

        /// The main job's results, after `comparison.run()` returned `rows`.
        public init(_ comparison: Comparison, rows: [ReportRow]) {
            settings = comparison.settings
            build = comparison.build
            runs = comparison.runs.map { ReportCharts.TrainedRun($0, layout: comparison.layout) }
            self.rows = rows
            distribution = comparison.distribution
            samples = comparison.samples
            versus = comparison.versus
            claims = RunClaims.all(comparison, versus: comparison.versus, scores: comparison.scores)
            evalPrompts = comparison.scores?.prompts ?? 0
        }
    }

    /// Writes the grids and charts into `<out>/report/`, then `<out>/report.html` (atomically);
    /// returns the page's path.
    @discardableResult
    public static func write(_ contents: Contents) throws -> String {
        let layout = RunLayout(out: contents.settings.out), assets = layout.file(folder)
        try FileIO.createFolder(assets)
        try contents.samples.write(to: assets)
        var charts = ReportCharts.all(contents.runs)
        if let segments = SegmentChart.svg(contents.rows, T: contents.settings.schedule.T) {
            charts.append(ReportCharts.Chart(file: "segments.svg", title: "Segment training", svg: segments,
                                             caption: "Each segment's fine-tune as a bar over the t it trained on, at its change of the "
                                                 + "labelling annotator against the base (the paper's Fig. 3).", hasData: true))
        }
        for c in charts { try FileIO.writeAtomically(Array(c.svg.utf8), to: assets + "/" + c.file) }
        let path = layout.file(fileName)
        try FileIO.writeAtomically(Array(html(contents, charts: charts).utf8), to: path)
        return path
    }

    /// The page's text.
    public static func html(_ c: Contents, charts: [ReportCharts.Chart]) -> String {
        let settings = c.settings, config = settings.config
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>dde-train comparison: \(esc(config.name))</title>
            <style>\(style)</style></head><body>
            <h1>dde-train comparison: \(esc(config.name))</h1>

            """
        if let b = c.build { page += "<p class=\"meta\">dde-train \(esc(b.version)), commit \(esc(b.commit))</p>\n" }
        page += "<nav>" + [("run", "The run"), ("table", "Table"), ("versus", "Method against method"), ("claims", "Claims"), ("matrix", "Full matrix"), ("dist", "Distribution metrics"),
                           ("grids", "Samples"), ("curves", "Training curves"), ("record", "DDE record"), ("credit", "Credit profile"),
                           ("byt", "Held-out accuracy by t")]
            .map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined(separator: " · ") + "</nav>\n"

        page += "<h2 id=\"run\">The run</h2>\n<table class=\"kv\">\n"
        for (key, value) in settings.summary(evalPrompts: c.evalPrompts) { page += "<tr><th>\(esc(key))</th><td>\(esc(value))</td></tr>\n" }
        page += "</table>\n"

        page += "<h2 id=\"table\">Table</h2>\n<p class=\"caption\">" + esc(tableCaption(settings)) + "</p>\n" + mainTable(c.rows)

        if !c.versus.isEmpty {
            page += "<h2 id=\"versus\">Method against method (report-versus.csv)</h2>\n<p class=\"caption\">Row method against column "
                + "method, both fine-tuned on the annotator's pairs and scored by it: the verdict, the difference in % of the base "
                + "mean and its 95% interval over the seeds and the test prompts (README, Intervals). Green: row better (the "
                + "interval above 0); red: row worse.</p>\n" + VersusMatrix.html(c.versus, methods: settings.compare.methods)
        }
        if !c.claims.isEmpty {
            page += "<h2 id=\"claims\">Claims (claims.csv)</h2>\n<p class=\"caption\">Each claim of the paper as this run tests it: "
                + "the statistic, its value and 95% interval, and the verdict (inconclusive: the interval holds the threshold).</p>\n"
                + csvTable(CSVTable(text: Claim.csv(c.claims)))
        }
        // A sweep's matrix needs the grid point: sweep.csv's columns then.
        let sweep = c.rows.contains { !$0.setting.isEmpty }
        page += "<h2 id=\"matrix\">Full matrix (\(sweep ? "sweep.csv" : "report.csv"))</h2>\n<p class=\"caption\">Every method x "
            + "train annotator x eval annotator\(sweep ? " x grid point" : ""), means over seeds; seed_spread is the range of the "
            + "mean across seeds. Change and beat ratio are against the base's twin images.</p>\n"
            + csvTable(CSVTable(text: sweep ? ComparisonReport.sweepCSV(c.rows) : ComparisonReport.csv(c.rows)))
        page += "<h2 id=\"dist\">Distribution metrics (report-dist.csv)</h2>\n<p class=\"caption\">Frechet distance of the align "
            + "classifier's features to clean renders of the same prompts (lower is closer), the Inception-Score analog (higher "
            + "is more confident and diverse) and the colour error in sRGB units (lower is truer colour); a fine-tune that "
            + "raises its annotator's score while these get worse is reward hacking.</p>\n"
            + (c.distribution.isEmpty ? "<p>Not computed: they compare against clean renders of the prompts, and the prompts are not all "
                + "shapes-world captions.</p>\n" : csvTable(CSVTable(text: ComparisonReport.distributionCSV(c.distribution))))

        page += "<h2 id=\"grids\">Samples: the same prompts and seeds for every model</h2>\n" + grids(c.samples, evalSeed: settings.eval.seed)

        let sections: [(id: String, title: String, files: (String) -> Bool)] = [
            ("curves", "Training curves", { ["loss.svg", "implicit-accuracy.svg", "z.svg"].contains($0) }),
            ("record", "DDE record", { $0.hasPrefix("record") || $0 == "correction.svg" }),
            ("credit", "Credit profile", { $0.hasPrefix("credit") }),
            ("byt", "Held-out accuracy by t", { $0 == "heldout-by-t.svg" }),
            ("segments", "Segments", { $0 == "segments.svg" }),
        ]
        for s in sections where charts.contains(where: { s.files($0.file) }) {
            page += "<h2 id=\"\(s.id)\">\(s.title)</h2>\n<div class=\"charts\">\n"
            for chart in charts where s.files(chart.file) {
                page += "<figure><img src=\"\(folder)/\(esc(chart.file))\" alt=\"\(esc(chart.title))\">"
                    + "<figcaption>\(esc(chart.caption))</figcaption></figure>\n"
            }
            page += "</div>\n"
        }
        return page + "</body></html>\n"
    }

    // MARK: Sections

    static func tableCaption(_ settings: RunSettings) -> String {
        "Each cell: the mean score over the \(settings.eval.prompts.phrase); for a fine-tune, below it the change against the base in % with its "
            + "95% paired bootstrap interval and the beat ratio b (share of same-noise twins where the fine-tune scores higher, "
            + "ties half) with its interval. A method's cell under an annotator is its fine-tune on that annotator's pairs, "
            + "scored by the same annotator (the paper's layout); means over seeds \(settings.compare.seeds.map(String.init).joined(separator: ",")). "
            + "Green: the change interval is above 0; red: below 0."
    }

    static func mainTable(_ rows: [ReportRow]) -> String {
        var html = "<table class=\"main\">\n<thead><tr><th>method</th>"
            + ComparisonReport.evalAnnotators(rows).map { "<th>\($0)</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for (method, setting, cells) in ComparisonReport.layout(rows) {
            html += "<tr><th>\(esc(method + setting))</th>"
            for cell in cells {
                guard let a = cell else { html += "<td class=\"none\">-</td>"; continue }
                if let change = a.change, let lo = a.changeLow, let hi = a.changeHigh, let beat = a.beat,
                   let bLo = a.beatLow, let bHi = a.beatHigh {
                    let mark = lo > 0 ? " class=\"up\"" : hi < 0 ? " class=\"down\"" : ""
                    html += "<td\(mark)><b>" + score(a.mean) + "</b><br>"
                        + String(format: "%+.1f%% <span class=\"ci\">[%+.1f, %+.1f]</span><br>", change, lo, hi)
                        + String(format: "b %.2f <span class=\"ci\">[%.2f, %.2f]</span></td>", beat, bLo, bHi)
                } else {
                    html += "<td><b>" + score(a.mean) + "</b><br><span class=\"ci\">[" + score(a.low) + ", " + score(a.high) + "]</span></td>"
                }
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    /// A score to 3 decimals, or to 3 significant digits when that would show 0.000 (an
    /// annotator whose scores are all tiny still shows its differences).
    static func score(_ v: Double) -> String {
        String(format: v == 0 || abs(v) >= 0.01 ? "%.3f" : "%.3g", v)
    }

    /// A CSV file as an HTML table; numbers shown to 4 significant digits (the files keep them all).
    static func csvTable(_ table: CSVTable) -> String {
        func cell(_ field: String) -> String {
            guard let v = Double(field) else { return "<td>\(esc(field))</td>" }
            return "<td class=\"num\">" + String(format: "%.4g", v) + "</td>"
        }
        // Headers may break after an underscore, so the 13 columns of report.csv fit the page.
        return "<table class=\"data\">\n<thead><tr>"
            + table.header.map { "<th>" + esc($0).replacingOccurrences(of: "_", with: "_<wbr>") + "</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            + table.rows.map { "<tr>" + $0.map(cell).joined() + "</tr>\n" }.joined() + "</tbody></table>\n"
    }

    /// The overview grid (rows = models, columns = prompts, image 0) and one grid per model
    /// (rows = prompts, columns = images), each with row and column labels aligned to its cells.
    static func grids(_ samples: ReportSamples, evalSeed seed: UInt64) -> String {
        guard let first = samples.models.first?.images.first?.first else { return "<p>No samples were kept.</p>\n" }
        let step = first.width * samples.scale + ReportSamples.gap
        func grid(_ file: String, rows: [String], columns: [String], image: RGBImage) -> String {
            "<div class=\"grid\" style=\"--cell: \(step)px; --gap: \(ReportSamples.gap)px\"><div></div>"
                + "<div class=\"cols\">" + columns.map { "<span>\(esc($0))</span>" }.joined() + "</div>"
                + "<div class=\"rows\">" + rows.map { "<span>\(esc($0))</span>" }.joined() + "</div>"
                + "<img src=\"\(folder)/\(esc(file))\" width=\"\(image.width)\" height=\"\(image.height)\" alt=\"\(esc(file))\"></div>\n"
        }
        let prompts = samples.prompts.indices.map { "p\($0 + 1)" }
        var html = "<p class=\"caption\">Image j of prompt i starts from the same noise (seed \(seed) + j) for every model, so a "
            + "cell differs between models only by the fine-tune; look for shapes, sizes and colours that follow the prompt "
            + "better, and for drift every method shares (such as backgrounds turning beige).</p>\n"
        html += "<h3>Every model, image 0 of each prompt</h3>\n"
            + grid(ReportSamples.overviewFile, rows: samples.models.map(\.name), columns: prompts, image: samples.overview())
        html += "<ol class=\"prompts\">" + samples.prompts.map { "<li>\(esc($0))</li>" }.joined() + "</ol>\n"
        let images = (0..<(samples.models.first?.images.first?.count ?? 0)).map { "\($0)" }
        html += "<h3>Per model: rows = prompts p1..p\(samples.prompts.count), columns = images 0..\(images.count - 1)</h3>\n<div class=\"models\">\n"
        for m in samples.models {
            html += "<figure><figcaption>\(esc(m.name))</figcaption>"
                + grid(ReportSamples.gridFile(m.name), rows: prompts, columns: images, image: samples.grid(m)) + "</figure>\n"
        }
        return html + "</div>\n"
    }

    static func esc(_ s: String) -> String { SVGLineChart.escape(s) }

    static let style = """
        body { font-family: system-ui, sans-serif; font-size: 15px; line-height: 1.45; color: #222; max-width: 1240px; margin: 24px auto; padding: 0 16px; }
        h1 { font-size: 26px; margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
        h3 { font-size: 16px; margin: 20px 0 8px; } .meta { color: #666; margin-top: 0; } nav { margin: 12px 0 20px; }
        .caption, figcaption { color: #444; font-size: 14px; max-width: 1000px; }
        table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #ccc; padding: 4px 10px; }
        thead th { background: #f2f2f2; } table.kv th { text-align: left; background: #f7f7f7; font-weight: 600; }
        table.main td { text-align: center; min-width: 170px; } table.main tbody th { text-align: left; }
        td.up { background: #e3f4e3; } td.down { background: #fae3e3; } .ci { color: #666; font-size: 13px; }
        table.data td.num { text-align: right; font-variant-numeric: tabular-nums; } table.data { font-size: 13px; }
        table.data th, table.data td { padding: 3px 7px; }
        .grid { display: grid; grid-template-columns: auto auto; justify-content: start; margin: 4px 0 8px; }
        .grid .cols { display: flex; padding-left: var(--gap); } .grid .cols span { width: var(--cell); text-align: center; font-size: 12px; color: #555; }
        .grid .rows { display: flex; flex-direction: column; padding-top: var(--gap); }
        .grid .rows span { height: var(--cell); display: flex; align-items: center; justify-content: flex-end; padding-right: 8px; font-size: 13px; }
        .grid img { image-rendering: pixelated; }
        .models { display: flex; flex-wrap: wrap; gap: 8px 28px; } .models figure { margin: 0; }
        .models figcaption { font-weight: 600; color: #222; }
        ol.prompts { columns: 2; font-size: 14px; max-width: 1000px; } ol.prompts li::marker { content: "p" counter(list-item) "  "; }
        .charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 20px 28px; }
        .charts figure { margin: 0; } .charts img { width: 100%; height: auto; border: 1px solid #eee; }
        """
}
