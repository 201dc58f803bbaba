import XCTest
import DDECore

final class PreferenceLossTests: XCTestCase {
    let schedule = NoiseSchedule(kind: .scaledLinear, timesteps: 1000)

    func make(_ kind: PreferenceLoss.Kind, beta: Double = 500, _ tweak: (inout PreferenceLoss.Settings) -> Void = { _ in }) -> PreferenceLoss {
        var s = PreferenceLoss.Settings(kind: kind, beta: beta, range: .whole(1000))
        tweak(&s)
        return PreferenceLoss(s, schedule: schedule)
    }

    /// losses.md: at initialisation (policy == reference, so D = 0, and an empty record) every
    /// DPO-style loss is exactly ln 2.
    /// The losses of `-log sigmoid(z)` with z a function of D (the paper's and InPO, SmPO).
    static let sigmoidOfD = PreferenceLoss.Kind.allCases.filter { $0.dependsOnDifferenceOnly && $0 != .hinge && $0 != .ipo }

    /// `evaluate(D:t:)` with a soft label per pair for SmPO (0.8: a clear preference).
    func evaluate(_ loss: PreferenceLoss, D: [Double], t: [Int]) -> PreferenceLoss.Evaluation {
        loss.evaluate(D: D, t: t, softLabel: loss.settings.kind.needsSoftLabel ? D.map { _ in 0.8 } : [])
    }

    func testEveryPreferenceLossIsLn2AtInitialisation() {
        for kind in Self.sigmoidOfD where kind.isPreference {
            for weightMode in [false, true] {
                let loss = make(kind) { $0.discMode = weightMode ? .weight : .sample }
                let e = evaluate(loss, D: [0, 0, 0, 0], t: [1, 250, 700, 1000])
                XCTAssertEqual(e.loss, log(2), accuracy: 1e-15, "\(kind)")
                XCTAssertEqual(e.z, [0, 0, 0, 0])
            }
        }
    }

    /// dL/dD against central differences of the loss itself, for every kind, with a warm record.
    func testGradientMatchesFiniteDifferences() {
        var rng = RandomStream(seed: 3)
        for kind in PreferenceLoss.Kind.allCases where kind.isPreference && kind.dependsOnDifferenceOnly {
            let loss = make(kind, beta: 50) { $0.recordBuckets = 50; $0.discMode = kind == .discounted ? .weight : .sample }
            let t = (0..<6).map { _ in 1 + rng.int(below: 1000) }
            // Warm the record with a few updates so C_t is not zero.
            for _ in 0..<5 { loss.updateRecord(D: (0..<6).map { _ in Double(rng.normal()) * 1e-3 }, t: t.shuffled(using: &rng)) }
            let D = (0..<6).map { _ in Double(rng.normal()) * 2e-3 }
            let analytic = evaluate(loss, D: D, t: t).dLdD
            for i in 0..<D.count {
                var up = D, down = D
                up[i] += 1e-7
                down[i] -= 1e-7
                let fd = (evaluate(loss, D: up, t: t).loss - evaluate(loss, D: down, t: t).loss) / 2e-7
                XCTAssertEqual(analytic[i], fd, accuracy: 1e-6 * max(1, abs(fd)), "\(kind) pair \(i)")
            }
        }
    }

    /// losses.md: DDE with dde.correction_scale = 0 is DDE-Single, whatever the record holds.
    func testDDEWithoutCorrectionIsDDESingle() {
        let dde = make(.dde) { $0.correctionScale = 0 }
        let single = make(.ddeSingle)
        let t = [3, 300, 600, 999], D = [1e-3, -2e-3, 5e-4, 3e-3]
        for _ in 0..<4 { dde.updateRecord(D: D, t: t) }
        XCTAssertGreaterThan(abs(dde.record!.entries.reduce(0, +)), 0)
        let a = dde.evaluate(D: D, t: t), b = single.evaluate(D: D, t: t)
        XCTAssertEqual(a.z, b.z)
        XCTAssertEqual(a.dLdD, b.dLdD)
        XCTAssertEqual(a.loss, b.loss)
    }

    /// A hand-worked record: T = 4, one entry per step, g = 0.5, lambda folded into the values.
    ///   iteration 1: pairs drew s = 2, 2, 4 with values 4, 2, 8 -> A[2] = 0.5*0 + 0.5*mean(4,2) = 1.5,
    ///                A[4] = 0.5*8 = 4, A[1] = A[3] = 0
    ///   iteration 2: s = 4 with value 0 -> A[4] = 0.5*4 + 0.5*0 = 2
    ///   C_t = sum_{s>t} A[s]: C_0 = 3.5, C_1 = 3.5, C_2 = 2, C_3 = 2, C_4 = 0
    ///   bias-corrected: A[2] = 1.5/(1 - 0.5) = 3, A[4] = 2/(1 - 0.25) = 8/3
    func testRecordUpdateAndCorrectionByHand() {
        var record = DDERecord(T: 4, buckets: 4, decay: 0.5, biasCorrection: false)
        record.update(steps: [2, 2, 4], values: [4, 2, 8])
        XCTAssertEqual(record.entries, [0, 1.5, 0, 4])
        record.update(steps: [4], values: [0])
        XCTAssertEqual(record.entries, [0, 1.5, 0, 2])
        XCTAssertEqual(record.updates, [0, 1, 0, 2])
        XCTAssertEqual(record.suffixSums(), [3.5, 3.5, 2, 2, 0])
        var corrected = record
        corrected = DDERecord(T: 4, buckets: 4, decay: 0.5, biasCorrection: true)
        corrected.entries = record.entries
        corrected.updates = record.updates
        XCTAssertEqual(corrected.perStep()[1...].map { $0 }, [0, 3, 0, 8.0 / 3])
        // Two buckets over T = 4: steps 1-2 share entry 0, steps 3-4 entry 1; C_1 adds s = 2, 3, 4.
        var bucketed = DDERecord(T: 4, buckets: 2, decay: 0.5, biasCorrection: false)
        bucketed.update(steps: [1, 2, 3], values: [2, 6, 10])
        XCTAssertEqual(bucketed.entries, [2, 5])
        XCTAssertEqual(bucketed.suffixSums(), [14, 12, 10, 5, 0])
    }

    /// The loss reads the record as losses.md says: dde's z at t uses C_t; dde-step's uses the
    /// sum over every s != t; lambda_s D_s is what goes in.
    func testZUsesTheRecordAsSpecified() {
        let beta = 10.0
        let dde = make(.dde, beta: beta) { $0.recordBuckets = 0 }
        let step = make(.ddeStep, beta: beta)
        dde.updateRecord(D: [0.5], t: [700])
        step.updateRecord(D: [0.5], t: [700])
        let a700 = 0.05 * schedule.lambda(700) * 0.5
        XCTAssertEqual(dde.record!.entries[699], a700, accuracy: 1e-18)
        let z = dde.evaluate(D: [0, 0], t: [100, 700]).z
        XCTAssertEqual(z[0], -beta * a700, accuracy: 1e-15, "C_100 includes s = 700")
        XCTAssertEqual(z[1], 0, "C_700 sums s > 700 only")
        let zs = step.evaluate(D: [0, 0], t: [100, 700]).z
        XCTAssertEqual(zs[0], -beta * a700, accuracy: 1e-15)
        XCTAssertEqual(zs[1], 0, "dde-step leaves out s = t itself")
    }

    /// Discounted (mode sample): t is drawn with probability ∝ gamma^n(t); the histogram over n
    /// follows gamma^n (each n covers T/steps = 20 steps).
    func testDiscountedTimestepHistogramFollowsGammaToTheN() {
        let loss = make(.discounted)
        var rng = RandomStream(seed: 11)
        var counts = [Int](repeating: 0, count: 51)
        let draws = 400_000
        for _ in 0..<draws { counts[loss.discountIndex(loss.drawTimestep(&rng))] += 1 }
        // Expected share of bin n: (steps in the bin) * 0.9^n / sum over t of 0.9^n(t).
        var weight = [Double](repeating: 0, count: 51)
        for t in 1...1000 { weight[loss.discountIndex(t)] += pow(0.9, Double(loss.discountIndex(t))) }
        let total = weight.reduce(0, +)
        for n in 0..<20 {
            let expected = weight[n] / total * Double(draws)
            XCTAssertEqual(Double(counts[n]), expected, accuracy: 5 * expected.squareRoot() + 1, "n = \(n)")
        }
        XCTAssertGreaterThan(counts[0], 8 * counts[20], "0.9^20 = 0.12: the noisiest steps dominate")
    }

    /// The credit profile's density: drawProbability is the law drawTimestep samples from
    /// (sums to 1, zero outside t_range, gamma^n-shaped for Discounted).
    func testDrawProbabilityIsTheSamplingLaw() throws {
        let discounted = make(.discounted)
        XCTAssertEqual((1...1000).map(discounted.drawProbability).reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(discounted.drawProbability(1000) / discounted.drawProbability(1), pow(0.9, -49), accuracy: 1e-6,
                       "n(1000) = 0, n(1) = 49")
        let segment = make(.uniform) { $0.range = try! TimestepRange.parse("0.3:0.4", T: 1000) }
        XCTAssertEqual(segment.drawProbability(300), 0)
        XCTAssertEqual(segment.drawProbability(301), 0.01, accuracy: 1e-15)
        XCTAssertEqual((1...1000).map(segment.drawProbability).reduce(0, +), 1, accuracy: 1e-12)
        var rng = RandomStream(seed: 3)
        var high = 0
        for _ in 0..<100_000 where discounted.drawTimestep(&rng) > 900 { high += 1 }
        let expected = (901...1000).map(discounted.drawProbability).reduce(0, +) * 100_000
        XCTAssertEqual(Double(high), expected, accuracy: 5 * expected.squareRoot())
    }

    func testTimestepRangeParsing() throws {
        XCTAssertEqual(try TimestepRange.parse("0:0.1", T: 1000), TimestepRange(first: 1, last: 100))
        XCTAssertEqual(try TimestepRange.parse("0.9:1", T: 1000), TimestepRange(first: 901, last: 1000))
        XCTAssertEqual(try TimestepRange.parse("0.2:0.7", T: 1000), TimestepRange(first: 201, last: 700))
        XCTAssertEqual(try TimestepRange.parse("200:700", T: 1000), TimestepRange(first: 201, last: 700))
        XCTAssertEqual(try TimestepRange.parse("", T: 1000), .whole(1000))
        for bad in ["0.5", "0.7:0.2", "a:b", "0:2000"] {
            XCTAssertThrowsError(try TimestepRange.parse(bad, T: 1000), bad)
        }
        // Segment training draws only inside the range.
        var s = PreferenceLoss.Settings(kind: .discounted, beta: 1, range: try TimestepRange.parse("0.3:0.4", T: 1000))
        s.discGamma = 0.5
        let loss = PreferenceLoss(s, schedule: schedule)
        var rng = RandomStream(seed: 2)
        for _ in 0..<2000 { XCTAssertTrue((301...400).contains(loss.drawTimestep(&rng))) }
    }
}
