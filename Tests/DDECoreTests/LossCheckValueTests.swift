import Foundation
import XCTest
import DDECore

/// The losses pinned from outside (issue 13): z and the loss at a nonzero D against values
/// worked out here from losses.md's formulas, with the schedule's b2_t, lambda_t and gamma^n
/// derived in this file (and checked against the spec's printed check values), not taken from
/// `NoiseSchedule` or `PreferenceLoss`; and the sign convention that tells winner from loser.
final class LossCheckValueTests: XCTestCase {
    /// losses.md's scaled_linear schedule, derived here: beta_t = linspace(sqrt(0.00085),
    /// sqrt(0.012), T)^2, abar_t = prod (1 - beta_s).
    struct SpecSchedule {
        let T = 1000
        let beta: [Double]
        let abar: [Double]
        init() {
            let lo: Double = 0.00085.squareRoot(), hi: Double = 0.012.squareRoot(), T = 1000
            var b: [Double] = [0]
            for i in 0..<T {
                let s: Double = lo + (hi - lo) * Double(i) / Double(T - 1)
                b.append(s * s)
            }
            beta = b
            var a = [1.0]
            for t in 1...T { a.append(a[t - 1] * (1 - beta[t])) }
            abar = a
        }
        func b2(_ t: Int) -> Double { (1 - abar[t]) / abar[t] }
        /// The posterior form, `beta_s / (2 alpha_s (1 - abar_{s-1}))`, the beta form at s = 1.
        func lambda(_ s: Int) -> Double { beta[s] / (2 * (1 - beta[s]) * (1 - abar[s == 1 ? 1 : s - 1])) }
        /// Discounted: n(t) = floor((T - t) * 50 / T), gamma = 0.9.
        func discount(_ t: Int) -> Double { pow(0.9, Double((T - t) * 50 / T)) }
    }

    let spec = SpecSchedule()
    let beta = 500.0, D = 2e-3
    let steps = [1, 500]

    func testTheDerivedScheduleHasTheSpecsCheckValues() {
        XCTAssertEqual(spec.abar[1], 0.99915, accuracy: 5e-6)
        XCTAssertEqual(spec.abar[500], 0.27767, accuracy: 5e-6)
        XCTAssertEqual(spec.abar[1000], 0.00466, accuracy: 5e-6)
        XCTAssertEqual(spec.b2(1), 0.0009, accuracy: 5e-5)
        XCTAssertEqual(spec.b2(500), 2.6014, accuracy: 5e-5)
        XCTAssertEqual(spec.b2(1000), 213.59, accuracy: 5e-3)
        XCTAssertEqual((1000 - 1) * 50 / 1000, 49)
        XCTAssertEqual((1000 - 500) * 50 / 1000, 25)
    }

    func make(_ kind: PreferenceLoss.Kind, _ tweak: (inout PreferenceLoss.Settings) -> Void = { _ in }) -> PreferenceLoss {
        var s = PreferenceLoss.Settings(kind: kind, beta: beta, range: .whole(1000))
        tweak(&s)
        return PreferenceLoss(s, schedule: NoiseSchedule(kind: .scaledLinear, timesteps: 1000))
    }

    /// `-log sigmoid(z)`, worked out here.
    func loss(_ z: Double) -> Double { log(1 + exp(-z)) }

    func assertZ(_ kind: String, _ e: PreferenceLoss.Evaluation, _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
        for (i, z) in expected.enumerated() {
            XCTAssertEqual(e.z[i], z, accuracy: 1e-9 * max(1, abs(z)), "\(kind) z at t = \(steps[i])", file: file, line: line)
        }
        let mean = expected.map(loss).reduce(0, +) / Double(expected.count)
        XCTAssertEqual(e.loss, mean, accuracy: 1e-12, "\(kind) loss", file: file, line: line)
    }

    /// Uniform and Discounted (mode sample): z = -(beta/2) D; Discounted (mode weight):
    /// z = -(beta/2) w(t) D with w = gamma^n(t) over its mean on 1..T.
    func testUniformAndDiscounted() {
        let expected = steps.map { _ in -(beta / 2) * D }   // -0.5 at both steps
        XCTAssertEqual(expected[0], -0.5, accuracy: 1e-15)
        assertZ("uniform", make(.uniform).evaluate(D: [D, D], t: steps), expected)
        assertZ("discounted sample", make(.discounted).evaluate(D: [D, D], t: steps), expected)
        let mean = (1...1000).map(spec.discount).reduce(0, +) / 1000
        let weighted = steps.map { -(beta / 2) * spec.discount($0) / mean * D }
        assertZ("discounted weight", make(.discounted) { $0.discMode = .weight }.evaluate(D: [D, D], t: steps), weighted)
    }

    /// DDE-Single: z = -beta kappa b2_t D, kappa = 0.5.
    func testDDESingle() {
        assertZ("dde-single", make(.ddeSingle).evaluate(D: [D, D], t: steps), steps.map { -beta * 0.5 * spec.b2($0) * D })
    }

    /// DDE with a record holding one update at s = 700 (g = 0.95, value lambda_700 D_rec):
    /// A[700] = 0.05 lambda_700 D_rec, and C_t = A[700] for t < 700, so
    /// z = -beta (kappa b2_t D + rho C_t) at t = 1 and t = 500 (rho = 1); at t = 800, C = 0.
    /// DDE-Step: z = -beta (lambda_t D + sum over s != t of A[s]).
    func testDDEAndDDEStepWithAWarmRecord() {
        let dRecord = -4e-3
        let a700 = 0.05 * spec.lambda(700) * dRecord
        let dde = make(.dde), step = make(.ddeStep)
        dde.updateRecord(D: [dRecord], t: [700])
        step.updateRecord(D: [dRecord], t: [700])
        assertZ("dde", dde.evaluate(D: [D, D], t: steps), steps.map { -beta * (0.5 * spec.b2($0) * D + a700) })
        XCTAssertEqual(dde.evaluate(D: [D], t: [800]).z[0], -beta * 0.5 * spec.b2(800) * D, accuracy: 1e-9, "C_800 = 0")
        assertZ("dde-step", step.evaluate(D: [D, D], t: steps), steps.map { -beta * (spec.lambda($0) * D + a700) })
        XCTAssertEqual(step.evaluate(D: [D], t: [700]).z[0], -beta * spec.lambda(700) * D, accuracy: 1e-12,
                       "dde-step leaves out A[t] itself")
    }

    /// A policy that lowered its error on the winner (relative to the reference) more than on
    /// the loser has D < 0, so every DPO loss gives z > 0 and a loss below ln 2; the same
    /// errors with winner and loser swapped give z < 0 and a loss above ln 2. D is formed by
    /// `PreferenceBatch.differences` from errors laid out as the batch holds them (winners first).
    func testWinnerAndLoserAreNotSwapped() {
        let batch = PreferenceBatch(capacity: 2, sampleSize: 2)
        // Two pairs: policy errors (w0, w1, l0, l1), reference errors likewise.
        let policy = [0.10, 0.20, 0.30, 0.35], reference = [0.20, 0.25, 0.20, 0.30]
        let D = batch.differences(policy: policy, reference: reference)
        XCTAssertEqual(D[0], (0.10 - 0.20) - (0.30 - 0.20), accuracy: 1e-15)
        XCTAssertEqual(D[1], (0.20 - 0.25) - (0.35 - 0.30), accuracy: 1e-15)
        let swapped = batch.differences(policy: [0.30, 0.35, 0.10, 0.20], reference: [0.20, 0.30, 0.20, 0.25])
        // The losses of -log sigmoid(z), z a function of D (the zoo's others: LossZooTests).
        for kind in PreferenceLoss.Kind.allCases where kind.dependsOnDifferenceOnly && kind != .hinge && kind != .ipo {
            let loss = make(kind) { $0.beta = 5 }
            let soft = kind.needsSoftLabel ? [0.8, 0.8] : []
            let better = loss.evaluate(D: D, t: [300, 300], softLabel: soft), worse = loss.evaluate(D: swapped, t: [300, 300], softLabel: soft)
            XCTAssertTrue(better.z.allSatisfy { $0 > 0 }, "\(kind): z \(better.z)")
            XCTAssertLessThan(better.loss, log(2), "\(kind)")
            XCTAssertTrue(worse.z.allSatisfy { $0 < 0 }, "\(kind): swapped z \(worse.z)")
            XCTAssertGreaterThan(worse.loss, log(2), "\(kind)")
            // Gradient descent on the loss lowers D: dL/dD > 0.
            XCTAssertTrue(better.dLdD.allSatisfy { $0 > 0 } && worse.dLdD.allSatisfy { $0 > 0 }, "\(kind)")
        }
    }
}
