import XCTest
import DDECore

/// The newer losses (issue 17) pinned from outside: each against losses-extra.md's worked
/// examples (common inputs e_theta(w) = 0.12, e_ref(w) = 0.10, e_theta(l) = 0.09,
/// e_ref(l) = 0.11 at t = 500, so D = 0.04), through `LossInspection` (what `dde-train inspect
/// loss` prints) with the config's keys and each loss's own beta; both gradients against central
/// differences of the value; and a better pair (winner and loser not swapped) costing less.
final class LossZooTests: XCTestCase {
    let common = LossInspection.Inputs(t: 500, policyWinner: 0.12, policyLoser: 0.09, referenceWinner: 0.10, referenceLoser: 0.11)

    /// `dde-train inspect loss` with these overrides (`loss=NAME` among them).
    func inspect(_ overrides: [String], _ x: LossInspection.Inputs) throws -> (value: Double, gradWinner: Double, gradLoser: Double) {
        let settings = try RunSettings(ConfigLoader.load(file: nil, overrides: overrides))
        let resolved = try settings.forMethod(settings.fineTune.loss.kind.rawValue)
        return try LossInspection.evaluate(resolved.fineTune.loss, schedule: resolved.schedule, x)
    }

    func with(_ x: LossInspection.Inputs, _ change: (inout LossInspection.Inputs) -> Void) -> LossInspection.Inputs {
        var y = x
        change(&y)
        return y
    }

    /// Relative agreement to the spec's six significant digits.
    func assertClose(_ a: Double, _ b: Double, _ message: String, digits: Double = 5e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: digits * max(abs(b), 1e-300), message, file: file, line: line)
    }

    func assertExample(_ overrides: [String], _ x: LossInspection.Inputs, value: Double, winner: Double, loser: Double,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try inspect(overrides, x)
        let name = overrides.joined(separator: " ")
        assertClose(r.value, value, "\(name): value", file: file, line: line)
        assertClose(r.gradWinner, winner, "\(name): dL/de_w", file: file, line: line)
        assertClose(r.gradLoser, loser, "\(name): dL/de_l", file: file, line: line)
    }

    func testDiffusersVariantsAgainstTheWorkedExamples() throws {
        // Section 6, example 1 (the script's default beta_dpo 2500) and example 2 (25).
        try assertExample(["loss=hinge"], common, value: 101, winner: 2500, loser: -2500)
        try assertExample(["loss=ipo"], common, value: 0.00161604, winner: 0.0804000, loser: -0.0804000)
        try assertExample(["loss=hinge", "hinge.beta=25"], common, value: 2, winner: 25, loser: -25)
        try assertExample(["loss=ipo", "ipo.beta=25"], common, value: 0.0036, winner: 0.12, loser: -0.12)
        // The reference line: the script's sigmoid branch is uniform at twice its beta.
        try assertExample(["loss=uniform", "beta=5000"], common, value: 100, winner: 2500, loser: -2500)
        try assertExample(["loss=uniform", "beta=50"], common, value: 1.31326, winner: 18.2765, loser: -18.2765)
    }

    func testKTOAgainstTheWorkedExamples() throws {
        // Example 1: the code's defaults, this pair alone (two images, kl = max(0, 0) = 0).
        try assertExample(["loss=kto"], common, value: 1 - 2.06115e-9, winner: 1.03058e-06, loser: -1.03058e-06)
        // Example 2: beta 50 with a reference point of 0.01 from a larger batch.
        let items = [KTOLoss.Item(policy: 0.12, reference: 0.10, desirable: true), KTOLoss.Item(policy: 0.09, reference: 0.11, desirable: false)]
        let r = KTOLoss.evaluate(items, beta: 50, lambdaDesirable: 1, lambdaUndesirable: 1, referencePoint: 0.01)
        assertClose(r.loss, 0.720017, "kto example 2: value")
        assertClose(r.dLde[0], 3.72866, "kto example 2: dL/de_w")
        assertClose(r.dLde[1], -5.87509, "kto example 2: dL/de_l")
        XCTAssertEqual(KTOLoss.referencePoint(items), 0, accuracy: 1e-15, "the batch mean of e_ref - e_theta (here 0 up to rounding)")
        XCTAssertEqual(KTOLoss.referencePoint([KTOLoss.Item(policy: 0.2, reference: 0.1, desirable: true)]), 0, "clamped at 0")
        XCTAssertEqual(KTOLoss.referencePoint([KTOLoss.Item(policy: 0.1, reference: 0.2, desirable: true)]), 0.1, accuracy: 1e-15)
    }

    func testMaPOAgainstTheWorkedExamples() throws {
        assertClose(MaPOLoss.score(0.12, snr: 0.5), 0.970300, "f(0.12)")
        assertClose(MaPOLoss.score(0.09, snr: 0.5), 0.977669, "f(0.09)")
        assertClose(MaPOLoss.scoreSlope(0.12, snr: 0.5), -0.245001, "f'(0.12)")
        assertClose(MaPOLoss.scoreSlope(0.09, snr: 0.5), -0.246250, "f'(0.09)")
        // f and f' stay finite and continuous through e = 0, where u/expm1(u) is 0/0.
        XCTAssertEqual(MaPOLoss.score(0, snr: 0.5), 1)
        XCTAssertEqual(MaPOLoss.score(1e-7, snr: 0.5), MaPOLoss.score(3e-6, snr: 0.5), accuracy: 1e-6)
        XCTAssertEqual(MaPOLoss.scoreSlope(0, snr: 0.5), -0.25)
        XCTAssertEqual(MaPOLoss.scoreSlope(1e-7, snr: 0.5), MaPOLoss.scoreSlope(3e-6, snr: 0.5), accuracy: 1e-6)
        try assertExample(["loss=mapo"], common, value: 0.856939, winner: 25.4846, loser: -24.6095)
        try assertExample(["loss=mapo", "mapo.beta=1"], common, value: 7.48939, winner: 245.846, loser: -246.095)
        // Reference-free: the reference's errors change nothing.
        let moved = try inspect(["loss=mapo"], with(common) { $0.referenceWinner = 0.5; $0.referenceLoser = 0.01 })
        XCTAssertEqual(moved.value, try inspect(["loss=mapo"], common).value)
    }

    func testDSPOAgainstTheWorkedExamples() throws {
        let x = with(common) { $0.winnerDistance = 0.01 }
        try assertExample(["loss=dspo"], x, value: 0.119985, winner: 0.999500, loser: 3.74875e-09)
        try assertExample(["loss=dspo", "dspo.beta=0.05"], x, value: 0.119256, winner: 0.974978, loser: 9.21867e-06)
        try assertExample(["loss=dspo", "dspo.form=sdxl", "dspo.beta=5000"], x, value: 1, winner: 1.86004e-40, loser: -1.86004e-40)
        let far = with(common) { $0.winnerDistance = 0.2 }
        try assertExample(["loss=dspo", "dspo.form=sdxl", "dspo.beta=5000"], far, value: 0.2, winner: 3.72008e-41, loser: -3.72008e-41)
        try assertExample(["loss=dspo", "dspo.form=sdxl", "dspo.beta=50"], x, value: 0.534447, winner: 7.18674, loser: -7.18674)
        try assertExample(["loss=dspo", "dspo.form=sdxl", "dspo.beta=50"], far, value: 0.106889, winner: 1.43735, loser: -1.43735)
        // dL/dd_w, which the training step sends through d_w = mean (eps_theta - eps_ref)^2.
        let sd15 = DSPOLoss(form: .sd15, beta: 0.001).evaluate(D: [0.04], policyWinner: [0.12], referenceWinner: [0.10], distance: [0.01])
        assertClose(sd15.dLdDistance[0], -0.000499755, "dspo sd15: dL/dd_w")
        let sdxl = DSPOLoss(form: .sdxl, beta: 50).evaluate(D: [0.04], policyWinner: [0.12], referenceWinner: [0.10], distance: [0.2])
        assertClose(sdxl.dLdDistance[0], 0.534447, "dspo sdxl: dL/dd_w")
        // dspo.detach_weight: sigmoid(z) held constant, so nothing reaches the loser.
        let detached = try inspect(["loss=dspo", "dspo.detach_weight=true", "dspo.beta=0.05"], x)
        XCTAssertEqual(detached.gradLoser, 0)
        assertClose(detached.gradWinner, 1 - 0.05 * (1 - 1 / (1 + exp(0.05 / 2 * 0.04))), "detached: 1 - g")
    }

    func testInPOAndSmPOAgainstTheWorkedExamples() throws {
        // InPO's loss is Diffusion-DPO's at the inverted x_t.
        try assertExample(["loss=inpo", "inpo.beta=5000"], common, value: 100, winner: 2500, loser: -2500)
        try assertExample(["loss=inpo"], common, value: 40, winner: 1000, loser: -1000)
        // SmPO: p from two PickScores with the authors' normalising constants.
        let pick = SoftLabel(scale: 10, scoreMin: 0.11543526500463486, scoreMax: 0.28201571106910706)
        let p1 = pick.probability(winner: 0.22, loser: 0.21), p2 = pick.probability(winner: 0.25, loser: 0.20)
        assertClose(p1, 0.515003, "smpo p, example 1")
        assertClose(pick.betaFactor(p: p1), 0.300065, "smpo 10 (2p - 1), example 1")
        assertClose(p2, 0.574480, "smpo p, example 2")
        try assertExample(["loss=smpo", "smpo.beta=5000"], with(common) { $0.softLabel = p1 }, value: 30.0065, winner: 750.163, loser: -750.163)
        try assertExample(["loss=smpo"], with(common) { $0.softLabel = p2 }, value: 59.5844, winner: 1489.61, loser: -1489.61)
        let tie = pick.probability(winner: 0.2201, loser: 0.2200)
        try assertExample(["loss=smpo"], with(common) { $0.softLabel = tie }, value: 0.754979, winner: 1.59076, loser: -1.59076)
        // Through the config: smpo.score_min and smpo.score_max normalise the pair's scores.
        let s = try RunSettings(ConfigLoader.load(file: nil, overrides: ["loss=smpo", "smpo.score_min=0.11543526500463486",
                                                                         "smpo.score_max=0.28201571106910706"]))
        XCTAssertEqual(s.fineTune.loss.softLabel.probability(winner: 0.22, loser: 0.21), p1)
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, overrides: ["smpo.score_min=1", "smpo.score_max=0.5"]))
        XCTAssertThrowsError(try inspect(["loss=smpo"], common), "smpo without p= is an error, not a silent default")
    }

    /// Every loss of the zoo (and the paper's): both gradients against central differences of the
    /// value at a point off every kink, and the same pair with winner and loser swapped costing more.
    func testGradientsMatchFiniteDifferencesAndASwapCostsMore() throws {
        let x = with(common) { $0.winnerDistance = 0.01; $0.softLabel = 0.7; $0.correction = 1e-4 }
        for kind in PreferenceLoss.Kind.allCases where kind != .sft {
            let overrides = ["loss=\(kind.rawValue)", "beta=50"] + (kind == .dspo ? ["dspo.beta=0.05"] : [])
                + (kind == .hinge || kind == .ipo ? ["\(kind.rawValue).beta=5"] : [])
            let r = try inspect(overrides, x)
            let h = 1e-7
            let up = try inspect(overrides, with(x) { $0.policyWinner += h }).value, down = try inspect(overrides, with(x) { $0.policyWinner -= h }).value
            XCTAssertEqual(r.gradWinner, (up - down) / (2 * h), accuracy: 1e-5 * max(1, abs(r.gradWinner)), "\(kind): dL/de_w")
            let upL = try inspect(overrides, with(x) { $0.policyLoser += h }).value, downL = try inspect(overrides, with(x) { $0.policyLoser -= h }).value
            XCTAssertEqual(r.gradLoser, (upL - downL) / (2 * h), accuracy: 1e-5 * max(1, abs(r.gradLoser)), "\(kind): dL/de_l")
            // The policy better on the winner than the reference (D < 0), against the same pair swapped (D > 0).
            let better = with(x) { $0.policyWinner = 0.09; $0.policyLoser = 0.12; $0.referenceWinner = 0.11; $0.referenceLoser = 0.10 }
            XCTAssertLessThan(try inspect(overrides, better).value, try inspect(overrides, x).value, "\(kind): a swapped pair must cost more")
        }
    }

    /// `inspect loss`'s inputs: a missing, unknown or malformed one is an error naming it.
    func testInspectInputsAreChecked() {
        let good = ["t": "500", "e_w": "0.12", "e_l": "0.09", "e_ref_w": "0.1", "e_ref_l": "0.11"]
        XCTAssertNoThrow(try LossInspection.Inputs(arguments: good, T: 1000))
        for (change, word) in [(["e_l": nil], "e_l"), (["t": "0"], "t=0"), (["t": "2.5"], "t=2.5"), (["e_w": "x"], "e_w=x"), (["q": "1"], "'q'")]
            as [([String: String?], String)] {
            var args = good
            for (k, v) in change { args[k] = v }
            XCTAssertThrowsError(try LossInspection.Inputs(arguments: args, T: 1000)) { error in
                XCTAssertTrue("\(error)".contains(word), "\(error) should name \(word)")
            }
        }
    }
}
