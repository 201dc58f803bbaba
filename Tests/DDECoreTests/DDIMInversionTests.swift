import XCTest
import DDECore

/// InPO's and SmPO's DDIM inversion (losses-extra.md sections 4 and 7): the diffusers 0.20.0
/// grid and its kicks against the spec's numbers, and the exact grid, with a model that knows
/// the true noise, landing on the forward-noised x_t itself.
final class DDIMInversionTests: XCTestCase {
    let schedule = NoiseSchedule(kind: .scaledLinear, timesteps: 1000)

    func testTheDiffusers020GridAndKicksAtT500() {
        let inpo = DDIMInversion(steps: 10, eta: 0.1, semantics: .diffusers020)
        let path = inpo.path(toward: 499, schedule: schedule)
        XCTAssertEqual(path.map(\.origin), [-99, 1, 101, 201, 301, 401])
        XCTAssertEqual(path.first!.abarOrigin, schedule.alphaBar[1], "origin -99 reads alphas_cumprod[0]")
        XCTAssertEqual(path.last!.abarDestination, 0.274999, accuracy: 5e-6, "the inversion ends at level 501, not 499")
        XCTAssertEqual(schedule.alphaBar[500], 0.27767, accuracy: 5e-6, "the target's abar_k = alphas_cumprod[499]")
        let kicks = path.map { 0.1 * DDIMInversion.kickVariance($0).squareRoot() }
        for (got, want) in zip(kicks, [0.00206483, 0.00409842, 0.0260957, 0.0361792, 0.0448090, 0.0527609]) {
            XCTAssertEqual(got, want, accuracy: 5e-6 * want)
        }
        // Over uniform k: 6.382 steps on average, ending 39.7 steps above k on average.
        let paths = (0..<1000).map { inpo.path(toward: $0, schedule: schedule) }
        XCTAssertEqual(Double(paths.map(\.count).reduce(0, +)) / 1000, 6.382, accuracy: 1e-9)
        let ends = paths.enumerated().compactMap { k, p in p.last.map { $0.origin + 100 - k } }
        XCTAssertEqual(Double(ends.reduce(0, +)) / Double(ends.count), 39.7, accuracy: 0.05)
        // SmPO's SD 1.5 grid: 5 steps, stride 200.
        let smpo = DDIMInversion(steps: 5, eta: 0, semantics: .diffusers020, renoise: true)
        XCTAssertEqual(smpo.path(toward: 499, schedule: schedule).map(\.origin), [-199, 1, 201, 401])
        XCTAssertEqual(smpo.path(toward: 499, schedule: schedule).last!.abarDestination, 0.159816, accuracy: 5e-6)
        XCTAssertEqual(Double((0..<1000).map { smpo.path(toward: $0, schedule: schedule).count }.reduce(0, +)) / 1000, 3.792, accuracy: 1e-9)
    }

    /// With the true noise as the model's prediction and no kick, the exact grid lands on
    /// sqrt(abar_k) x0 + sqrt(1 - abar_k) eps and the implied target is eps, with or without
    /// ReNoise's averaging; the diffusers 0.20.0 grid does not (it ends a stride away).
    func testTheExactGridWithAnOracleRecoversTheForwardNoisedImage() {
        let d = 12, k = [0, 37, 499, 998]
        var rng = RandomStream(seed: 5)
        let x0 = (0..<(k.count * d)).map { _ in rng.normal() }, eps = (0..<(k.count * d)).map { _ in rng.normal() }
        for renoise in [false, true] {
            for semantics in DDIMInversion.Semantics.allCases {
                let inversion = DDIMInversion(steps: 10, eta: 0, semantics: semantics, renoise: renoise)
                var x = x0, target = [Float](repeating: 0, count: x0.count), calls = 0
                var kicks = k.map { RandomStream(seed: UInt64($0)) }
                let oracle = UnsafeMutablePointer<Float>.allocate(capacity: k.count * d)
                defer { oracle.deallocate() }
                x.withUnsafeMutableBufferPointer { xp in
                    target.withUnsafeMutableBufferPointer { tp in
                        inversion.invert(xp.baseAddress!, target: tp.baseAddress!, count: k.count, size: d, k: k, schedule: schedule,
                                         kicks: &kicks) { _, steps, images in
                            calls += 1
                            XCTAssertEqual(steps.count, images.count)
                            for (a, i) in images.enumerated() { for q in 0..<d { oracle[a * d + q] = eps[i * d + q] } }
                            return UnsafePointer(oracle)
                        }
                    }
                }
                XCTAssertEqual(calls, (renoise ? 2 : 1) * k.map { inversion.path(toward: $0, schedule: schedule).count }.max()!)
                for (i, ki) in k.enumerated() {
                    let a = schedule.alphaBar[ki + 1]
                    for q in 0..<d {
                        let forward = Float(a.squareRoot()) * x0[i * d + q] + Float((1 - a).squareRoot()) * eps[i * d + q]
                        if semantics == .exact {
                            XCTAssertEqual(x[i * d + q], forward, accuracy: 1e-4, "k \(ki), renoise \(renoise)")
                            XCTAssertEqual(target[i * d + q], eps[i * d + q], accuracy: 2e-3, "k \(ki), renoise \(renoise)")
                        } else if ki == 499 && q == 0 {
                            XCTAssertGreaterThan(abs(x[i * d + q] - forward), 1e-4, "diffusers020 ends at 501, not at 499")
                        }
                    }
                }
            }
        }
    }
}
