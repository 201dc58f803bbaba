import Foundation
import XCTest
import DDECore

/// The intervals of method-against-method differences (issue 13): Student's t quantiles against
/// scipy's, the two-way mean squares by hand, and a simulation of coverage with as many seeds as
/// configs/sd15.conf's main job uses.
final class TwoWayIntervalTests: XCTestCase {
    /// scipy.stats.t.ppf(0.975, df) and t.cdf(1.3, 3.2).
    func testStudentTMatchesScipy() {
        let ppf: [(Double, Double)] = [(1, 12.706204736174694), (2, 4.302652729749462), (2.5, 3.5746548420036817),
                                       (4.7, 2.62072607535317), (10, 2.228138851986274), (30, 2.0422724563012378),
                                       (1e6, 1.959966356814107)]
        for (df, q) in ppf { XCTAssertEqual(StudentT.quantile(0.975, df: df), q, accuracy: 1e-9 * q, "df \(df)") }
        XCTAssertEqual(StudentT.cdf(1.3, df: 3.2), 0.8603409541528723, accuracy: 1e-12)
        XCTAssertEqual(StudentT.quantile(0.025, df: 2), -4.302652729749462, accuracy: 1e-8)
    }

    /// A 2 x 3 table worked by hand: grand mean 2.5; seed means 2, 3; prompt means 1.5, 2.5, 3.5.
    ///   MS_seed = 3 * ((2-2.5)^2 + (3-2.5)^2) / 1 = 1.5
    ///   MS_prompt = 2 * (1 + 0 + 1) / 2 = 2
    ///   residuals: [1,2,3;2,3,4] minus the fitted = 0 everywhere, MS_resid = 0
    ///   var = (1.5 + 2 - 0) / 6, df = 3.5^2 / (1.5^2/1 + 2^2/2) = 12.25 / 4.25
    func testMeanSquaresByHand() {
        let i = TwoWayInterval([[1, 2, 3], [2, 3, 4]])
        XCTAssertEqual(i.mean, 2.5)
        XCTAssertEqual(i.standardError, (3.5 / 6).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(i.degreesOfFreedom, 12.25 / 4.25, accuracy: 1e-12)
        let q = StudentT.quantile(0.975, df: 12.25 / 4.25)
        XCTAssertEqual(i.low, 2.5 - q * (3.5 / 6).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(i.verdict, "better")
        XCTAssertEqual(TwoWayInterval([[-2, -2.1, -1.9], [-2.05, -1.95, -2.0]]).verdict, "worse")
        XCTAssertEqual(TwoWayInterval([[1, -1], [-1, 1]]).verdict, "tie")
        let one = TwoWayInterval([[1, 2, 3, 6]])
        XCTAssertEqual(one.degreesOfFreedom, 3, "one seed: the prompts only")
        XCTAssertEqual(one.standardError, (14.0 / 3 / 4).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(TwoWayInterval([[5]]).low, -.infinity)
    }

    /// The main job's seed count (configs/sd15.conf's compare.seeds).
    static func mainJobSeeds() throws -> Int {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/sd15.conf").path
        return try RunSettings(try ConfigLoader.load(file: path, overrides: [])).compare.seeds.count
    }

    /// Synthetic scores of two methods on P = 48 prompts x 8 images with the same initial noise
    /// per image (a shared image effect), a prompt difficulty shared by both, a prompt effect and
    /// a seed effect of each method's own, and image noise: the difference of the two methods'
    /// means is known. Per seed and prompt, the paired difference of the images' scores; the
    /// 95% interval over the table covers the true difference 90-99% of the time, whether the
    /// seeds, the prompts or neither dominate.
    func testCoverageOfTheTrueDifference() throws {
        XCTAssertGreaterThanOrEqual(try Self.mainJobSeeds(), 3, "configs/sd15.conf: compare.seeds holds at least three seeds")
        let K = try Self.mainJobSeeds(), P = 48, J = 8, replicates = 1500, truth = 0.3
        // (seed sd, prompt sd, image sd) of each method's own effects.
        let regimes: [(String, Double, Double, Double)] = [("seeds dominate", 0.6, 0.1, 1), ("prompts dominate", 0.02, 0.6, 1),
                                                           ("balanced", 0.25, 0.25, 1), ("no seed or prompt effect", 0, 0, 1)]
        var rng = RandomStream(seed: 2026)
        func normal() -> Double { Double(rng.normal()) }
        for (name, seedSD, promptSD, imageSD) in regimes {
            var covered = 0
            for _ in 0..<replicates {
                let difficulty = (0..<P).map { _ in normal() }
                let shared = (0..<P).map { _ in (0..<J).map { _ in normal() } }
                func method(_ mu: Double) -> [[[Double]]] {
                    let promptEffect = (0..<P).map { _ in promptSD * normal() }
                    return (0..<K).map { _ in
                        let seedEffect = seedSD * normal()
                        return (0..<P).map { p in
                            (0..<J).map { j in mu + difficulty[p] + promptEffect[p] + seedEffect + shared[p][j] + imageSD * normal() }
                        }
                    }
                }
                let a = method(truth), b = method(0)
                let cells = (0..<K).map { s in (0..<P).map { p in (0..<J).map { a[s][p][$0] - b[s][p][$0] }.reduce(0, +) / Double(J) } }
                let interval = TwoWayInterval(cells)
                if interval.low <= truth && truth <= interval.high { covered += 1 }
            }
            let coverage = Double(covered) / Double(replicates)
            XCTAssertTrue((0.90...0.99).contains(coverage), "\(name), \(K) seeds: coverage \(coverage)")
        }
    }
    /// The size that would decide an inconclusive difference: with its own seeds and prompts the
    /// expected half-width is the interval's own (the components reproduce the mean squares);
    /// the seeds it names decide and one fewer does not; a decided interval needs nothing.
    func testSizeToDecide() throws {
        var generator = RandomStream(seed: 7)
        func normal() -> Double { Double(generator.normal()) }
        let seedEffects = (0..<3).map { _ in 2 * normal() }, promptEffects = (0..<48).map { _ in normal() }
        let cells = seedEffects.map { s in promptEffects.map { p in 0.8 + s + p + 0.5 * normal() } }
        let i = TwoWayInterval(cells)
        let half = (i.high - i.low) / 2
        XCTAssertEqual(try XCTUnwrap(i.expectedHalfWidth(seeds: 3, prompts: 48)), half, accuracy: 1e-9 * half)
        let wide = TwoWayInterval(cells.map { $0.map { $0 - i.mean + 0.4 * half } })  // mean 0.4 x the half-width: inconclusive
        XCTAssertTrue(wide.low < 0 && wide.high > 0)
        let size = wide.sizeToDecide()
        let seeds = try XCTUnwrap(size.seeds, "a seed effect this size is decided by more seeds")
        XCTAssertLessThan(try XCTUnwrap(wide.expectedHalfWidth(seeds: seeds, prompts: 48)), abs(wide.mean))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(wide.expectedHalfWidth(seeds: seeds - 1, prompts: 48)), abs(wide.mean))
        XCTAssertNil(size.prompts, "more prompts alone cannot beat the seed effect")
        XCTAssertNil(size.together, "seeds alone decide it")
        // A difference both effects hide: neither more seeds alone nor more prompts alone
        // decide it, both grown together do.
        let both = TwoWayInterval((0..<3).map { s in (0..<48).map { p in 0.05 + 0.3 * seedEffects[s] + 3 * promptEffects[p] } })
        let sizes = both.sizeToDecide()
        XCTAssertNil(sizes.seeds, "\(sizes)")
        XCTAssertNil(sizes.prompts, "\(sizes)")
        let together = try XCTUnwrap(sizes.together)
        XCTAssertLessThan(try XCTUnwrap(both.expectedHalfWidth(seeds: together.seeds, prompts: together.prompts)), abs(both.mean))
        let claim = Claim("x beats y", statistic: "diff_pct", wide, above: true)
        XCTAssertEqual(claim.verdict, "inconclusive")
        XCTAssertEqual(claim.toDecide, "\(seeds) seeds")
        XCTAssertNil(Claim("x beats y", statistic: "diff_pct", TwoWayInterval(cells.map { $0.map { $0 + 10 * half } }), above: true).decision)
    }
}
