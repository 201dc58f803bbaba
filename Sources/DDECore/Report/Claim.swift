import Foundation

/// One of the paper's claims, tested on this run (`claims.csv`,
/// `claim,statistic,value,ci_low,ci_high,verdict`): the statistic that decides it, its value and
/// 95% interval, and the verdict: `holds` when the interval lies on the claim's side of its
/// threshold, `does not hold` when it lies on the other side, `inconclusive` when it holds the
/// threshold (more seeds or images would decide it).
public struct Claim: Sendable {
    public let claim: String
    public let statistic: String
    public let interval: TwoWayInterval
    public let verdict: String
    /// The value the statistic is compared with.
    public let threshold: Double
    /// What one value of a one-factor statistic is (e.g. "DDE fine-tunes"), for `toDecide`.
    public let units: String?

    public static let header = "claim,statistic,value,ci_low,ci_high,verdict"

    /// A claim that `statistic` is above `threshold` (`above: true`) or below it.
    public init(_ claim: String, statistic: String, _ interval: TwoWayInterval, above: Bool, threshold: Double = 0, units: String? = nil) {
        self.units = units
        self.claim = claim
        self.statistic = statistic
        self.interval = interval
        self.threshold = threshold
        let (lowSide, highSide) = (interval.low > threshold, interval.high < threshold)
        verdict = lowSide ? (above ? "holds" : "does not hold") : highSide ? (above ? "does not hold" : "holds") : "inconclusive"
    }

    public var csvLine: String {
        [claim, statistic, interval.csvFields, verdict].joined(separator: ",")
    }

    public static func csv(_ claims: [Claim]) -> String { header + "\n" + claims.map { $0.csvLine + "\n" }.joined() }

    /// For an inconclusive claim, how much data would decide it if the measured difference and
    /// variances are the truth (`TwoWayInterval.sizeToDecide`): the seeds (at the run's prompts),
    /// or the test prompts (at its seeds, with as many images each), or both together; for a
    /// statistic over fine-tunes (`units`), their number (`unitsToDecide`) in `seeds`; and the same
    /// in words. nil for a decided claim.
    public var decision: (seeds: Int?, prompts: Int?, words: String)? {
        guard verdict == "inconclusive" else { return nil }
        guard interval.components != nil else {
            guard let units else { return (nil, nil, "needs two or more seeds and prompts to estimate") }
            guard interval.oneFactor != nil else { return (nil, nil, "needs two or more \(units) to estimate") }
            let n = interval.unitsToDecide(threshold: threshold)
            return (n, nil, n.map { "\($0) \(units)" } ?? "more than 100000 \(units): the difference may be nil")
        }
        let size = interval.sizeToDecide(threshold: threshold)
        if let both = size.together { return (both.seeds, both.prompts, "\(both.seeds) seeds and \(both.prompts) prompts together") }
        let either = [size.seeds.map { "\($0) seeds" }, size.prompts.map { "\($0) prompts" }].compactMap { $0 }
        return (size.seeds, size.prompts, either.isEmpty
                ? "out of reach (a thousand times the seeds and prompts would not): the difference may be nil"
                : either.joined(separator: " or "))
    }

    /// `decision` in words ("" for a decided claim).
    public var toDecide: String { decision?.words ?? "" }

    public static let decideHeader = "claim,verdict,seeds_to_decide,prompts_to_decide,in_words"

    /// `claims-to-decide.csv`: per claim, its `decision` (counts empty where decided or out of
    /// reach; both filled when only seeds and prompts together would decide it).
    public static func decideCSV(_ claims: [Claim]) -> String {
        decideHeader + "\n" + claims.map { c in
            let d = c.decision
            return [c.claim, c.verdict, d?.seeds.map(String.init) ?? "", d?.prompts.map(String.init) ?? "",
                    (d?.words ?? "").replacingOccurrences(of: ",", with: ";")].joined(separator: ",") + "\n"
        }.joined()
    }

    /// The report.md section.
    public static func markdown(_ claims: [Claim]) -> String {
        guard !claims.isEmpty else { return "" }
        var md = "## Claims (claims.csv)\n\nEach claim of the paper as this run tests it: the statistic, its value and 95% interval, and "
            + "the verdict (`inconclusive`: the interval holds the threshold) and, for an inconclusive one, how many seeds (at these prompts) "
            + "or test prompts (at these seeds) would decide it if the measured difference and variances are the truth.\n\n"
            + "| claim | statistic | value | 95% interval | verdict | would decide |\n|---|---|---|---|---|---|\n"
        for c in claims {
            md += String(format: "| %@ | %@ | %.4g | [%.4g, %.4g] | %@ | %@ |\n", c.claim, c.statistic, c.interval.mean, c.interval.low,
                         c.interval.high, c.verdict, c.toDecide)
        }
        return md
    }
}

/// The main job's claims (issue 13), from its method-against-method rows and its DDE folders
/// (read like the report's charts, so this sits in Report, above Compare):
/// - DDE beats each baseline on the annotator it was trained on (one claim per baseline and
///   annotator): the paired difference in % of the base mean, above 0;
/// - each DPO loss beats SFT on the annotator it was trained on: likewise;
/// - C_t shrinks as t grows: Spearman's correlation of |C_t| with t over the record's buckets at
///   the end (`record.csv`), per DDE fine-tune, below 0 (interval over the fine-tunes; the
///   magnitude, since C_T = 0 and C may have either sign);
/// - the record converges: its relative change over the last fifth of the fine-tune,
///   `|A_end - A_0.8| / |A_end|` (`record-history.csv`), per DDE fine-tune, below 0.1.
public enum MainJobClaims {
    public static func all(versus: [VersusRow], methods: [String], runs: [ReportCharts.TrainedRun], steps: Int) -> [Claim] {
        var claims: [Claim] = []
        func against(_ method: String, _ baseline: String) {
            for r in versus where r.evalAnnotator == r.trainAnnotator {
                if r.method == method && r.versus == baseline {
                    claims.append(Claim("\(method) beats \(baseline) on \(r.trainAnnotator)", statistic: "diff_pct", r.difference, above: true))
                } else if r.method == baseline && r.versus == method {
                    let flipped = TwoWayInterval(negating: r.difference)
                    claims.append(Claim("\(method) beats \(baseline) on \(r.trainAnnotator)", statistic: "diff_pct", flipped, above: true))
                }
            }
        }
        if methods.contains("dde") {
            for baseline in ["uniform", "discounted", "sft"] where methods.contains(baseline) { against("dde", baseline) }
        }
        if methods.contains("sft") {
            for dpo in ["uniform", "discounted"] where methods.contains(dpo) { against(dpo, "sft") }  // dde's is above
        }
        let dde = runs.filter { $0.method == "dde" && $0.run.setting.isEmpty }
        let correlations = dde.compactMap(correctionSlope)
        if !correlations.isEmpty {
            claims.append(Claim("C_t shrinks as t grows", statistic: "Spearman correlation of abs(C_t) with t", TwoWayInterval([correlations]),
                                above: false, units: "DDE fine-tunes"))
        }
        let changes = dde.compactMap { recordChange($0, steps: steps) }
        if !changes.isEmpty {
            claims.append(Claim("the DDE record converges", statistic: "relative change over the last fifth", TwoWayInterval([changes]),
                                above: false, threshold: 0.1, units: "DDE fine-tunes"))
        }
        return claims
    }

    /// Spearman's correlation of |C| with the bucket's first step, over the buckets the record has.
    static func correctionSlope(_ run: ReportCharts.TrainedRun) -> Double? {
        guard let table = run.table("record.csv") else { return nil }
        let points = table.points(x: "first_step", y: "C")
        guard points.count > 2 else { return nil }
        return Statistics.spearman(points.map(\.x), points.map { abs($0.y) })
    }

    /// `|A_end - A_start| / |A_end|` between the last logged step and the last one at or before
    /// 80% of `steps`.
    static func recordChange(_ run: ReportCharts.TrainedRun, steps: Int) -> Double? {
        guard let table = run.table("record-history.csv") else { return nil }
        let step = table.numbers("step"), value = table.numbers("value")
        let logged = Set(step.compactMap { $0 }).sorted()
        guard let end = logged.last, let start = logged.last(where: { $0 <= 0.8 * Double(steps) }), start < end else { return nil }
        func record(_ s: Double) -> [Double] { zip(step, value).compactMap { $0 == s ? $1 : nil } }
        let a = record(end), b = record(start)
        guard a.count == b.count, !a.isEmpty else { return nil }
        let norm = a.map { $0 * $0 }.reduce(0, +).squareRoot()
        guard norm > 0 else { return nil }
        return zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / norm
    }
}
