import XCTest
import Foundation
import DDECore

final class GELUTests: XCTestCase {
    /// The vectorised erf (Abramowitz & Stegun 7.1.26, PyTorch's own CPU approximation) within
    /// its published bound (1.5e-7) plus Float rounding (measured 4.2e-7 in all), scalar and
    /// eight-lane forms bit-identical.
    func testErfIsWithinItsBoundAndBothFormsAgree() {
        var worst = 0.0
        var x: Float = -6
        while x <= 6 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 1e-3 })
            let vector = GELU.erf(lanes)
            for i in 0..<8 {
                let exact = Foundation.erf(Double(lanes[i]))
                worst = max(worst, abs(Double(GELU.erf(lanes[i])) - exact))
                XCTAssertEqual(vector[i], GELU.erf(lanes[i]), "lane \(i) at \(lanes[i])")
            }
            x += 0.0173
        }
        XCTAssertLessThan(worst, 5e-7, "largest erf error \(worst)")
        XCTAssertEqual(GELU.value(0), 0)
        XCTAssertEqual(GELU.value(-10), 0, accuracy: 1e-12)
    }

    /// The shared-exponential pair backward uses: the value as `value` computes it and the
    /// derivative as the exact Φ(v) + v φ(v) in Double, within Float rounding of erf's bound;
    /// scalar and eight-lane forms bit-identical.
    func testValueAndDerivativeShareOneExponentialCorrectly() {
        var worstValue = 0.0, worstSlope = 0.0
        var x: Float = -8
        while x <= 8 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 1e-3 })
            let vector = GELU.valueAndDerivative(lanes)
            for i in 0..<8 {
                let v = Double(lanes[i]), scalar = GELU.valueAndDerivative(lanes[i])
                XCTAssertEqual(vector.value[i], scalar.value, "lane \(i) at \(v)")
                XCTAssertEqual(vector.derivative[i], scalar.derivative, "lane \(i) at \(v)")
                let cdf = 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot()))
                let slope = cdf + v * Foundation.exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
                worstValue = max(worstValue, abs(Double(scalar.value) - Double(GELU.value(lanes[i]))) / max(1, abs(v)))
                worstSlope = max(worstSlope, abs(Double(scalar.derivative) - slope))
            }
            x += 0.0173
        }
        XCTAssertLessThan(worstValue, 1e-6, "value against GELU.value")
        XCTAssertLessThan(worstSlope, 2e-6, "derivative against the exact one")
    }

    func testGEGLUMatchesNaiveAndFiniteDifferences() {
        var data = TestData(seed: 41)
        for (rows, inner, threads) in [(3, 5, 1), (4, 16, 2), (600, 11, 2)] {
            let ws = Workspace(threads: threads), mem = TestArena()
            defer { mem.free() }
            let x = data.normal(rows * 2 * inner, scale: 2), r = data.normal(rows * inner)
            let out = mem.filled(rows * inner), dx = mem.filled(x.count, 0.25)
            GEGLU.forward(mem.copy(x), out, rows: rows, inner: inner, ws)
            assertClose(array(out, rows * inner), Naive.geglu(x, rows: rows, inner: inner), tolerance: 3e-6, "geglu forward")
            GEGLU.backward(dOut: mem.copy(r), x: mem.copy(x), dx: dx, rows: rows, inner: inner, ws)
            let rd = r.doubles
            GradCheck.check("geglu dx", analytic: array(dx, x.count).map { $0 - 0.25 }, at: x.doubles) {
                dotD(rd, Naive.geglu($0, rows: rows, inner: inner))
            }
        }
    }

    func testQuickGELUMatchesNaiveAndFiniteDifferences() {
        var data = TestData(seed: 42)
        for (count, threads) in [(13, 1), (40_000, 2)] {
            let ws = Workspace(threads: threads), mem = TestArena()
            defer { mem.free() }
            let x = data.normal(count, scale: 3), r = data.normal(count)
            let out = mem.filled(count), dx = mem.filled(count, -1)
            QuickGELU.forward(mem.copy(x), out, count: count, ws)
            assertClose(array(out, count), Naive.quickGELU(x), tolerance: 1e-6, "quick gelu forward")
            QuickGELU.backward(dOut: mem.copy(r), x: mem.copy(x), dx: dx, count: count, ws)
            let rd = r.doubles
            GradCheck.check("quick gelu dx", analytic: array(dx, count).map { $0 + 1 }, at: x.doubles) {
                dotD(rd, Naive.quickGELU($0))
            }
        }
    }
}
