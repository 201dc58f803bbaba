import Foundation

/// The claims of the experiment scripts (issue 13), from the run's scores (`ScoreTable`), each
/// on the annotator the fine-tunes trained on, each an interval over seeds and test prompts:
///
/// - the estimation ablation (`scripts/ablate-estimation.sh`, methods dde, dde-single, dde-step):
///   DDE-Single is at least as good as DDE (the paper's Table 2 finds it close; here: the paired
///   difference DDE-Single - DDE above -`nonInferiorityMargin` % of the base mean), and DDE-Step
///   ends below the base (its change vs the base below 0);
/// - the segments (`scripts/segments.sh`, Uniform on `compare.t_range` segments; the paper's
///   Fig. 3): the middle segment 0.2:0.7 beats the full range 0:1, the segments 0:0.1 and 0.3:0.4
///   end above the base and 0.9:1.0 below it.
public enum ExperimentClaims {
    /// How much worse (in % of the base mean) DDE-Single may be and still count as "at least as
    /// good as DDE": a non-inferiority margin, stated in the claim's text.
    public static let nonInferiorityMargin = 1.0

    /// The segments the paper's Fig. 3 puts above (true) or below (false) the base.
    public static let segmentSides: [(range: String, above: Bool)] = [("0:0.1", true), ("0.3:0.4", true), ("0.9:1.0", false)]

    public static func all(scores: ScoreTable, methods: [String], tRanges: [String], trainAnnotators: [String]) -> [Claim] {
        var claims: [Claim] = []
        for a in trainAnnotators {
            if methods.contains("dde"), methods.contains("dde-single"),
               let d = scores.difference(("dde-single", ""), versus: ("dde", ""), trainAnnotator: a, evalAnnotator: a) {
                claims.append(Claim(String(format: "dde-single at least as good as dde on %@ (margin %g%% of the base)", a, nonInferiorityMargin),
                                    statistic: "diff_pct", d, above: true, threshold: -nonInferiorityMargin))
            }
            if methods.contains("dde-step"), let c = scores.changeVsBase(("dde-step", ""), trainAnnotator: a, evalAnnotator: a) {
                claims.append(Claim("dde-step below the base on \(a)", statistic: "change_pct", c, above: false))
            }
            guard !tRanges.isEmpty else { continue }
            for method in methods {
                func setting(_ r: String) -> String { "t_range=\(r)" }
                if tRanges.contains("0.2:0.7"), tRanges.contains("0:1"),
                   let d = scores.difference((method, setting("0.2:0.7")), versus: (method, setting("0:1")), trainAnnotator: a, evalAnnotator: a) {
                    claims.append(Claim("\(method) on t_range 0.2:0.7 beats the full range 0:1 on \(a)", statistic: "diff_pct", d, above: true))
                }
                for (range, above) in segmentSides where tRanges.contains(range) {
                    if let c = scores.changeVsBase((method, setting(range)), trainAnnotator: a, evalAnnotator: a) {
                        claims.append(Claim("\(method) on t_range \(range) \(above ? "above" : "below") the base on \(a)", statistic: "change_pct",
                                            c, above: above))
                    }
                }
            }
        }
        return claims
    }
}
