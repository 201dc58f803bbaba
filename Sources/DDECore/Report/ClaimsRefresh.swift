import Foundation

/// Recomputes a finished main job's method-against-method rows and claims from its files, without
/// evaluating anything again (`dde-train claims`): the scores from `scores-all.csv`, the DDE
/// records from the fine-tune folders, the plan from the run's resolved config. Rewrites
/// `report-versus.csv`, `claims.csv`, `claims-to-decide.csv` and report.md's two sections (report.html,
/// whose tables are the same CSVs, is left as the run wrote it).
public enum ClaimsRefresh {
    /// The run's `scores-all.csv` read back into a `ScoreTable` (a method column of
    /// `method setting` splits at its first space).
    public static func scores(_ path: String) throws -> ScoreTable {
        guard let table = CSVTable.load(path) else { throw TrainingError("\(path): cannot read it (run the main job first)") }
        let header = ScoreTable.allHeader.split(separator: ",").map(String.init)
        guard table.header == header else { throw TrainingError("\(path): the header is not '\(ScoreTable.allHeader)'") }
        var prompts = 0, perPrompt = 0
        for row in table.rows {
            guard let p = Int(row[3]), let i = Int(row[4]) else { throw TrainingError("\(path): a prompt or image index is not a number") }
            prompts = max(prompts, p + 1)
            perPrompt = max(perPrompt, i + 1)
        }
        var base: [String: [Double]] = [:]
        var models: [String: (method: String, setting: String, annotator: String, seed: Int, scores: [String: [Double]])] = [:]
        var order: [String] = []
        for row in table.rows {
            guard let p = Int(row[3]), let i = Int(row[4]), let score = Double(row[6]) else {
                throw TrainingError("\(path): a score is not a number")
            }
            let index = p * perPrompt + i, eval = row[5]
            if row[0] == "base" {
                base[eval, default: [Double](repeating: .nan, count: prompts * perPrompt)][index] = score
                continue
            }
            let key = row[0] + "|" + row[1] + "|" + row[2]
            if models[key] == nil {
                let parts = row[0].split(separator: " ", maxSplits: 1).map(String.init)
                guard let seed = Int(row[2]) else { throw TrainingError("\(path): seed '\(row[2])' is not a number") }
                models[key] = (parts[0], parts.count > 1 ? parts[1] : "", row[1], seed, [:])
                order.append(key)
            }
            models[key]!.scores[eval, default: [Double](repeating: .nan, count: prompts * perPrompt)][index] = score
        }
        var scores = ScoreTable(prompts: prompts, perPrompt: perPrompt, base: base)
        for key in order {
            let m = models[key]!
            scores.add(ScoreTable.Model(method: m.method, trainAnnotator: m.annotator, seed: m.seed, setting: m.setting, scores: m.scores))
        }
        return scores
    }

    /// Rewrites the run's comparison files; returns the claims.
    @discardableResult
    public static func run(_ comparison: Comparison) throws -> [Claim] {
        let layout = comparison.layout, settings = comparison.settings
        let scores = try Self.scores(layout.file("scores-all.csv"))
        let methods = settings.compare.methods, annotators = comparison.pairAnnotators
        let versus = VersusRow.all(scores, methods: methods, trainAnnotators: annotators)
        let claims = MainJobClaims.all(versus: versus, methods: methods,
                                       runs: comparison.runs.map { ReportCharts.TrainedRun($0, layout: layout) }, steps: settings.fineTune.steps)
            + ExperimentClaims.all(scores: scores, methods: methods, tRanges: settings.compare.tRanges, trainAnnotators: annotators)
        try FileIO.writeAtomically(Array(VersusRow.csv(versus).utf8), to: layout.file("report-versus.csv"))
        try FileIO.writeAtomically(Array(Claim.csv(claims).utf8), to: layout.file("claims.csv"))
        try FileIO.writeAtomically(Array(Claim.decideCSV(claims).utf8), to: layout.file("claims-to-decide.csv"))
        let reportPath = layout.file("report.md")
        if var report = try? String(contentsOfFile: reportPath, encoding: .utf8) {
            report = replacing(section: "## Method against method", in: report, with: VersusMatrix.markdown(versus, methods: methods))
            report = replacing(section: "## Claims", in: report, with: Claim.markdown(claims))
            try FileIO.writeAtomically(Array(report.utf8), to: reportPath)
        }
        return claims
    }

    /// `text` with the section starting at the line `heading...` (up to the next `## ` or the end)
    /// replaced by `section` (appended when absent).
    static func replacing(section heading: String, in text: String, with section: String) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix(heading) }) else {
            return section.isEmpty ? text : text + "\n" + section
        }
        let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("## ") }) ?? lines.count
        let replacement = section.isEmpty ? [] : section.components(separatedBy: "\n")
        lines.replaceSubrange(start..<end, with: replacement + (end < lines.count && !(replacement.last ?? "x").isEmpty ? [""] : []))
        return lines.joined(separator: "\n")
    }
}
