import XCTest
import Foundation
import DDECore

final class TimestepEmbeddingTests: XCTestCase {
    func testMatchesNaiveForIntAndFloatSteps() {
        let steps = [0, 1, 7, 250, 999, 1000]
        for dimension in [2, 8, 64, 128] {
            let mem = TestArena()
            defer { mem.free() }
            let count = steps.count * dimension
            let out = mem.filled(count), outF = mem.filled(count)
            TimestepEmbedding.forward(mem.copy(steps), out, n: steps.count, dimension: dimension)
            TimestepEmbedding.forward(mem.copy(steps.map(Float.init)), outF, n: steps.count, dimension: dimension)
            let expected: [Float] = Naive.timestepEmbedding(steps.map(Double.init), dimension: dimension)
            XCTAssertEqual(array(out, count), expected, "dimension \(dimension)")
            XCTAssertEqual(array(outF, count), expected, "float steps, dimension \(dimension)")
        }
    }

    /// C0 = 4: half = 2, frequencies 1 and 10000^(-1/2) = 0.01, order [cos, cos, sin, sin].
    func testKnownValues() {
        let mem = TestArena()
        defer { mem.free() }
        let out = mem.filled(12)
        TimestepEmbedding.forward(mem.copy([0, 1, 100] as [Int]), out, n: 3, dimension: 4)
        let expected: [Float] = [1, 1, 0, 0,
                                 Float(cos(1.0)), Float(cos(0.01)), Float(sin(1.0)), Float(sin(0.01)),
                                 Float(cos(100.0)), Float(cos(1.0)), Float(sin(100.0)), Float(sin(1.0))]
        let got = array(out, 12)
        for i in 0..<12 { XCTAssertEqual(got[i], expected[i], accuracy: 1e-7, "entry \(i)") }
    }

    /// Bounds the documented difference from diffusers' float32 computation (exponent, exp,
    /// product and sin/cos each rounded to float32) for steps up to 1000.
    func testDifferenceFromAFloat32EmulationOfDiffusersIsSmall() {
        let dimension = 64, half = 32
        let steps = Array(0...1000)
        let mem = TestArena()
        defer { mem.free() }
        let out = mem.filled(steps.count * dimension)
        TimestepEmbedding.forward(mem.copy(steps), out, n: steps.count, dimension: dimension)
        let ours = array(out, steps.count * dimension)
        var worst: Float = 0
        for k in steps {
            for i in 0..<half {
                let exponent = -Float(log(10000.0)) * Float(i) / Float(half)
                let arg = Float(k) * Foundation.exp(exponent)
                worst = max(worst, abs(ours[k * dimension + i] - Foundation.cos(arg)),
                            abs(ours[k * dimension + half + i] - Foundation.sin(arg)))
            }
        }
        XCTAssertLessThan(worst, 6e-5)
        XCTAssertGreaterThan(worst, 1e-6, "the float32 path should differ measurably; if not, update the doc comment")
    }
}
