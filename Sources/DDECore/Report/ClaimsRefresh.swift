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
        // Every (prompt, image) of every model and annotator is scored in a whole file.
        func complete(_ what: String, _ byAnnotator: [String: [Double]]) throws {
            for (eval, values) in byAnnotator.sorted(by: { $0.key < $1.key }) {
                if let k = values.firstIndex(where: \.isNaN) {
                    throw TrainingError("\(path): \(what) has no \(eval) score for prompt \(k / perPrompt), image \(k % perPrompt) (the file is incomplete)")
                }
            }
        }
        try complete("the base", base)
        for key in order { try complete(key.replacingOccurrences(of: "|", with: " "), models[key]!.scores) }
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
        let methods = settings.compare.methods
        let versus = VersusRow.all(scores, methods: methods, trainAnnotators: comparison.pairAnnotators)
        let claims = RunClaims.all(comparison, versus: versus, scores: scores)
        try RunClaims.write(versus: versus, claims: claims, layout: layout)
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
