import XCTest

/// The gradient checker itself: it passes an exact gradient and fails one scaled by 0.999 and
/// one holding a NaN (a NaN used to pass: it compares false with the worst error so far).
final class GradCheckTests: XCTestCase {
    /// f(x) = sum r_i x_i^2 + x_0 x_1, gradient 2 r_i x_i (+ the cross term).
    let point: [Double] = [0.7, -1.3, 0.25, 2.0, -0.6]
    let r: [Double] = [1.5, -0.5, 2.0, 0.75, 1.0]
    func f(_ x: [Double]) -> Double { zip(r, x).map { $0 * $1 * $1 }.reduce(0, +) + x[0] * x[1] }
    var exact: [Float] {
        var g = zip(r, point).map { 2 * $0 * $1 }
        g[0] += point[1]
        g[1] += point[0]
        return g.map(Float.init)
    }

    func testExactGradientPasses() {
        XCTAssertLessThan(GradCheck.worstError(analytic: exact, at: point, f).error, 1e-6)
    }

    func testGradientScaledBy0999Fails() {
        let worst = GradCheck.worstError(analytic: exact.map { $0 * 0.999 }, at: point, f)
        XCTAssertGreaterThan(worst.error, 1e-4, "the default tolerance must catch a 0.1% scale error")
    }

    func testNaNGradientFails() {
        for i in point.indices {
            var g = exact
            g[i] = .nan
            let worst = GradCheck.worstError(analytic: g, at: point, f)
            XCTAssertEqual(worst.error, .infinity, "NaN at coordinate \(i)")
            XCTAssertEqual(worst.index, i)
        }
        XCTAssertEqual(GradCheck.worstError(analytic: exact, at: point) { _ in .nan }.error, .infinity, "a NaN numeric gradient")
    }
}
