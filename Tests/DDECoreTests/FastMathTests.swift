import XCTest
import Foundation
import DDECore

final class FastMathTests: XCTestCase {
    func testExpIsWithinOneUlpOverTheNormalRange() {
        var worst = 0.0, at: Float = 0
        var x: Float = -87.3
        while x < 88.3 {
            let err = abs(Double(FastMath.exp(x)) - Foundation.exp(Double(x))) / Foundation.exp(Double(x))
            if err > worst { worst = err; at = x }
            x += 0.000_37
        }
        XCTAssertLessThanOrEqual(worst, 1.5e-7, "worst relative error at x = \(at)")
        XCTAssertEqual(FastMath.exp(0), 1)
    }

    func testSIMDMatchesScalarBitwise() {
        var data = TestData(seed: 3)
        for _ in 0..<1000 {
            let v = SIMD8<Float>(data.normal(8, scale: 30))
            let e = FastMath.exp(v)
            for l in 0..<8 { XCTAssertEqual(e[l].bitPattern, FastMath.exp(v[l]).bitPattern) }
        }
    }

    func testSaturatesInsteadOfOverflowingAndPropagatesNaN() {
        for x: Float in [-1000, -.infinity, -88] {
            XCTAssert(FastMath.exp(x) > 0 && FastMath.exp(x) < 1.3e-38, "exp(\(x)) = \(FastMath.exp(x))")
        }
        for x: Float in [1000, .infinity, 89] {
            XCTAssert(FastMath.exp(x).isFinite && FastMath.exp(x) > 2e38, "exp(\(x)) = \(FastMath.exp(x))")
        }
        XCTAssert(FastMath.exp(.nan).isNaN)
        XCTAssert(FastMath.exp(SIMD8<Float>(repeating: .nan))[3].isNaN)
    }
}
