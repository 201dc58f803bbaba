import Foundation

/// The verdicts of `report-versus.csv` as one matrix per train annotator (report.md and
/// report.html): row method against column method, each fine-tuned on that annotator's pairs and
/// scored by the same annotator; a cell holds the verdict, the difference in % of the base mean
/// and its 95% interval over seeds and prompts. The matrix is antisymmetric: the row below the
/// diagonal is the CSV's row, the one above it the same comparison turned round.
public enum VersusMatrix {
    /// (verdict, diff, low, high) of `row` against `column`, from the CSV row either way round.
    static func cell(_ rows: [VersusRow], row: String, column: String, annotator: String) -> (String, Double, Double, Double)? {
        if let r = rows.first(where: { $0.method == row && $0.versus == column && $0.trainAnnotator == annotator && $0.evalAnnotator == annotator }) {
            return (r.verdict, r.difference.mean, r.difference.low, r.difference.high)
        }
        if let r = rows.first(where: { $0.method == column && $0.versus == row && $0.trainAnnotator == annotator && $0.evalAnnotator == annotator }) {
            let flipped = r.verdict == "better" ? "worse" : r.verdict == "worse" ? "better" : "tie"
            return (flipped, -r.difference.mean, -r.difference.high, -r.difference.low)
        }
        return nil
    }

    static func annotators(_ rows: [VersusRow]) -> [String] {
        var seen: Set<String> = []
        let present = rows.map(\.trainAnnotator).filter { seen.insert($0).inserted }
        return AnnotatorSet.builtInNames.filter(present.contains) + present.filter { !AnnotatorSet.builtInNames.contains($0) }
    }

    static func text(_ c: (String, Double, Double, Double)) -> String {
        String(format: "%@ %+.1f%% [%+.1f, %+.1f]", c.0, c.1, c.2, c.3)
    }

    /// Markdown: one table per train annotator.
    public static func markdown(_ rows: [VersusRow], methods: [String]) -> String {
        guard !rows.isEmpty else { return "" }
        let seeds = rows.map(\.seeds).max() ?? 0
        var md = "## Method against method\n\nRow method against column method, both fine-tuned on the annotator's pairs and scored by it: "
            + "verdict, difference in % of the base mean, 95% interval over \(seeds) seed(s) and the test prompts "
            + "(README, Intervals). `better`/`worse`: the interval excludes 0.\n"
        for a in annotators(rows) {
            md += "\n### trained and scored on \(a)\n\n| | " + methods.joined(separator: " | ") + " |\n|---|" + methods.map { _ in "---|" }.joined() + "\n"
            for m in methods {
                md += "| \(m) | " + methods.map { c in
                    m == c ? "-" : cell(rows, row: m, column: c, annotator: a).map(text) ?? ""
                }.joined(separator: " | ") + " |\n"
            }
        }
        return md
    }

    /// HTML: the same tables, better cells green and worse red.
    public static func html(_ rows: [VersusRow], methods: [String]) -> String {
        var html = ""
        for a in annotators(rows) {
            html += "<h3>Trained and scored on \(a)</h3>\n<table class=\"main\">\n<thead><tr><th>row vs column</th>"
                + methods.map { "<th>\($0)</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for m in methods {
                html += "<tr><th>\(m)</th>"
                for c in methods {
                    guard m != c, let v = cell(rows, row: m, column: c, annotator: a) else { html += "<td class=\"none\">-</td>"; continue }
                    let mark = v.0 == "better" ? " class=\"up\"" : v.0 == "worse" ? " class=\"down\"" : ""
                    html += "<td\(mark)><b>\(v.0)</b><br>" + String(format: "%+.1f%% <span class=\"ci\">[%+.1f, %+.1f]</span></td>", v.1, v.2, v.3)
                }
                html += "</tr>\n"
            }
            html += "</tbody></table>\n"
        }
        return html
    }
}
