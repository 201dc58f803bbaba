import XCTest
import DDECore

/// Method against method and the claims (issue 13), on a score table built by hand.
final class VersusTests: XCTestCase {
    /// Two prompts x two images, two seeds. Base scores 1 everywhere (mean 1). Method "a" scores
    /// 1.2 on every image of seed 0 and 1.4 on seed 1; "b" 1.0 and 1.1. Per seed and prompt the
    /// paired difference is 0.2 (seed 0) and 0.3 (seed 1), in % of the base mean 20 and 30: mean
    /// 25; "a" wins every twin.
    func table() -> ScoreTable {
        var t = ScoreTable(prompts: 2, perPrompt: 2, base: ["align": [1, 1, 1, 1]])
        for (method, values) in [("a", [1.2, 1.4]), ("b", [1.0, 1.1])] {
            for (seed, v) in values.enumerated() {
                t.add(ScoreTable.Model(method: method, trainAnnotator: "align", seed: seed, setting: "", scores: ["align": [v, v, v, v]]))
            }
        }
        return t
    }

    func testVersusRowByHand() throws {
        let rows = VersusRow.all(table(), methods: ["b", "a"], trainAnnotators: ["align"])
        XCTAssertEqual(rows.count, 1, "one pair, one eval annotator with scores")
        let r = try XCTUnwrap(rows.first)
        XCTAssertEqual(r.method, "a", "the method listed later")
        XCTAssertEqual(r.versus, "b")
        XCTAssertEqual(r.difference.mean, 25, accuracy: 1e-9)
        XCTAssertEqual(r.winRate.mean, 1)
        XCTAssertEqual(r.seeds, 2)
        // The seed effect (20 vs 30) is all the variance: se = 5, df = 1, t = 12.706.
        XCTAssertEqual(r.difference.standardError, 5, accuracy: 1e-9)
        XCTAssertEqual(r.difference.low, 25 - 12.706204736174694 * 5, accuracy: 1e-6)
        XCTAssertEqual(r.verdict, "tie", "two seeds this far apart decide nothing")
        XCTAssertTrue(VersusRow.csv(rows).hasPrefix(VersusRow.header + "\n"))
        XCTAssertEqual(VersusRow.header,
                       "method,versus,train_annotator,eval_annotator,diff_pct,diff_ci_low,diff_ci_high,win_rate,win_ci_low,win_ci_high,verdict")
    }

    func testScoresCSVs() {
        let t = table()
        XCTAssertEqual(t.csv(["align": [0.5, 0.25, 1, 2]]), "prompt,image,eval_annotator,score\n0,0,align,0.5\n0,1,align,0.25\n1,0,align,1\n1,1,align,2\n")
        let all = t.allCSV.split(separator: "\n")
        XCTAssertEqual(all.first, "method,train_annotator,seed,prompt,image,eval_annotator,score")
        XCTAssertEqual(all[1], "base,,,0,0,align,1")
        XCTAssertEqual(all[5], "a,align,0,0,0,align,1.2")
        XCTAssertEqual(all.count, 1 + 4 + 4 * 4)
    }

    func testClaimVerdicts() {
        let above = TwoWayInterval([[1, 1.1, 0.9], [1.05, 0.95, 1.0]]), straddle = TwoWayInterval([[1, -1], [-1, 1]])
        XCTAssertEqual(Claim("x", statistic: "s", above, above: true).verdict, "holds")
        XCTAssertEqual(Claim("x", statistic: "s", above, above: false).verdict, "does not hold")
        XCTAssertEqual(Claim("x", statistic: "s", straddle, above: true).verdict, "inconclusive")
        XCTAssertEqual(Claim("x", statistic: "s", above, above: false, threshold: 2).verdict, "holds")
        XCTAssertEqual(Claim.header, "claim,statistic,value,ci_low,ci_high,verdict")
        let flipped = TwoWayInterval(negating: above)
        XCTAssertEqual(flipped.low, -above.high)
        XCTAssertEqual(Claim("x", statistic: "s", flipped, above: true).verdict, "does not hold")
    }
}

/// The experiment scripts' claims (`ExperimentClaims`) on hand-made scores: two seeds, two
/// prompts of two images, the base at 1 everywhere; each fine-tune's scores a seed's constant
/// plus a prompt's, so every interval is known in sign.
final class ExperimentClaimsTests: XCTestCase {
    func model(_ method: String, _ setting: String = "", seed: Int, _ level: Double) -> ScoreTable.Model {
        ScoreTable.Model(method: method, trainAnnotator: "align", seed: seed, setting: setting,
                         scores: ["align": [level, level, level + 0.001, level + 0.001]])
    }

    func testAblationClaims() {
        var t = ScoreTable(prompts: 2, perPrompt: 2, base: ["align": [1, 1, 1, 1]])
        for seed in 0..<2 {
            let wobble = 0.001 * Double(seed)
            t.add(model("dde", seed: seed, 1.10 + wobble))
            t.add(model("dde-single", seed: seed, 1.12 + wobble))  // +2% of the base: at least as good
            t.add(model("dde-step", seed: seed, 0.80 + 2 * wobble))  // -20%: below the base
        }
        let claims = ExperimentClaims.all(scores: t, methods: ["dde", "dde-single", "dde-step"], tRanges: [], trainAnnotators: ["align"])
        XCTAssertEqual(claims.map(\.claim), ["dde-single at least as good as dde on align (margin 1% of the base)", "dde-step below the base on align"])
        XCTAssertEqual(claims.map(\.verdict), ["holds", "holds"])
        XCTAssertEqual(claims[0].interval.mean, 2, accuracy: 0.01)
        XCTAssertEqual(claims[1].interval.mean, -19.85, accuracy: 1e-9)
        // DDE-Single 3% below DDE: outside the margin, so the claim does not hold.
        var worse = ScoreTable(prompts: 2, perPrompt: 2, base: ["align": [1, 1, 1, 1]])
        for seed in 0..<2 {
            worse.add(model("dde", seed: seed, 1.10 + 0.001 * Double(seed)))
            worse.add(model("dde-single", seed: seed, 1.07 + 0.0012 * Double(seed)))
        }
        XCTAssertEqual(ExperimentClaims.all(scores: worse, methods: ["dde", "dde-single"], tRanges: [], trainAnnotators: ["align"]).map(\.verdict),
                       ["does not hold"])
    }

    func testSegmentClaims() {
        var t = ScoreTable(prompts: 2, perPrompt: 2, base: ["align": [1, 1, 1, 1]])
        let levels = ["0:0.1": 1.05, "0.3:0.4": 0.97, "0.9:1.0": 0.90, "0.2:0.7": 1.20, "0:1": 1.10]
        for seed in 0..<2 {
            for (range, level) in levels { t.add(model("uniform", "t_range=\(range)", seed: seed, level + 0.001 * Double(seed))) }
        }
        let claims = ExperimentClaims.all(scores: t, methods: ["uniform"], tRanges: Array(levels.keys).sorted(), trainAnnotators: ["align"])
        XCTAssertEqual(claims.map(\.claim), ["uniform on t_range 0.2:0.7 beats the full range 0:1 on align",
                                             "uniform on t_range 0:0.1 above the base on align",
                                             "uniform on t_range 0.3:0.4 above the base on align",
                                             "uniform on t_range 0.9:1.0 below the base on align"])
        XCTAssertEqual(claims.map(\.verdict), ["holds", "holds", "does not hold", "holds"])
    }
}

/// `dde-train claims` reads the scores back from `scores-all.csv`: the table it rebuilds gives the
/// same method-against-method rows as the one the run kept in memory.
final class ClaimsRefreshTests: XCTestCase {
    func testScoresRoundTripThroughScoresAll() throws {
        var t = ScoreTable(prompts: 3, perPrompt: 2, base: ["align": [1, 0.9, 1.1, 1, 0.95, 1.05], "pick": [0.5, 0.6, 0.4, 0.5, 0.55, 0.45]])
        for seed in 0..<2 {
            for (method, setting, shift) in [("uniform", "", 0.01), ("dde", "", 0.03), ("uniform", "t_range=0.2:0.7", 0.02)] {
                let s = shift + 0.001 * Double(seed)
                t.add(ScoreTable.Model(method: method, trainAnnotator: "align", seed: seed, setting: setting,
                                       scores: ["align": t.base["align"]!.enumerated().map { $1 + s + 0.0001 * Double($0) },
                                                "pick": t.base["pick"]!.map { $0 - s / 3 }]))
            }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scores-all-\(UInt64.random(in: 0...UInt64.max)).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try t.allCSV.write(toFile: path, atomically: true, encoding: .utf8)
        let back = try ClaimsRefresh.scores(path)
        XCTAssertEqual(back.allCSV, t.allCSV)
        XCTAssertEqual(VersusRow.csv(VersusRow.all(back, methods: ["uniform", "dde"], trainAnnotators: ["align"])),
                       VersusRow.csv(VersusRow.all(t, methods: ["uniform", "dde"], trainAnnotators: ["align"])))
        XCTAssertEqual(back.runs("uniform", trainAnnotator: "align", setting: "t_range=0.2:0.7").count, 2)
        // A file cut short (one score line gone) is refused, naming the model and the missing image.
        var lines = t.allCSV.split(separator: "\n", omittingEmptySubsequences: false)
        let dropped = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("dde,align,1,2,1,pick,") })
        lines.remove(at: dropped)
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ClaimsRefresh.scores(path)) { error in
            XCTAssertTrue("\(error)".contains("dde align 1 has no pick score for prompt 2, image 1"), "\(error)")
        }
    }
}
