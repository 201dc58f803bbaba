import Foundation

/// One method against another on the same test images (`report-versus.csv`): fine-tuned on the
/// same annotator's pairs, scored by one eval annotator, over the seeds both ran and every test
/// prompt and image. The difference and win rate are means over a seeds x prompts table of
/// paired image differences, with `TwoWayInterval`s (seeds and prompts both random).
public struct VersusRow: Sendable {
    public let method: String
    public let versus: String
    public let trainAnnotator: String
    public let evalAnnotator: String
    /// 100 x (mean of method - mean of versus) / base mean, paired image by image.
    public let difference: TwoWayInterval
    /// Share of paired images where `method` scores higher (ties half).
    public let winRate: TwoWayInterval
    public let seeds: Int

    /// `better`, `worse` or `tie` from the difference's interval.
    public var verdict: String { difference.verdict }

    public static let header = "method,versus,train_annotator,eval_annotator,diff_pct,diff_ci_low,diff_ci_high,win_rate,win_ci_low,win_ci_high,verdict"

    /// Every unordered pair of `methods` (the one listed later is `method`), per train annotator
    /// in `trainAnnotators` and eval annotator, where both have a seed in common.
    public static func all(_ table: ScoreTable, methods: [String], trainAnnotators: [String]) -> [VersusRow] {
        var rows: [VersusRow] = []
        for train in trainAnnotators {
            for (i, earlier) in methods.enumerated() {
                for later in methods[(i + 1)...] {
                    for eval in table.annotators {
                        if let row = VersusRow(table, method: later, versus: earlier, trainAnnotator: train, evalAnnotator: eval) {
                            rows.append(row)
                        }
                    }
                }
            }
        }
        return rows
    }

    /// `method` against `versus`, seed s of one paired with seed s of the other (`ScoreTable.pairing`);
    /// nil when they share no seed or the annotator scored neither.
    public init?(_ table: ScoreTable, method: String, versus: String, trainAnnotator: String, evalAnnotator: String) {
        guard let pair = table.pairing((method, ""), versus: (versus, ""), trainAnnotator: trainAnnotator, evalAnnotator: evalAnnotator)
        else { return nil }
        self.method = method
        self.versus = versus
        self.trainAnnotator = trainAnnotator
        self.evalAnnotator = evalAnnotator
        seeds = pair.seeds
        difference = pair.percentDifference
        winRate = pair.interval { $0 > $1 ? 1 : $0 == $1 ? 0.5 : 0 }
    }

    /// The CSV line.
    public var csvLine: String {
        [method, versus, trainAnnotator, evalAnnotator, difference.csvFields, winRate.csvFields, verdict].joined(separator: ",")
    }

    public static func csv(_ rows: [VersusRow]) -> String {
        header + "\n" + rows.map { $0.csvLine + "\n" }.joined()
    }
}
