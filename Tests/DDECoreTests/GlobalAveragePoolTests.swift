import XCTest
import DDECore

final class GlobalAveragePoolTests: XCTestCase {
    func testForwardMatchesNaiveAndGradientMatchesFiniteDifferences() {
        var data = TestData(seed: 71)
        for (n, c, h, w) in [(2, 3, 4, 4), (1, 1, 1, 1), (3, 5, 3, 7), (4, 64, 16, 16)] {
            let x = data.normal(n * c * h * w), r = data.normal(n * c), start = data.normal(x.count, scale: 1e-3)
            let mem = TestArena()
            defer { mem.free() }
            let out = mem.filled(n * c, .nan)
            GlobalAveragePool.forward(mem.copy(x), out, n: n, c: c, h: h, w: w)
            assertClose(array(out, n * c), Naive.globalAveragePool(x, n: n, c: c, h: h, w: w), tolerance: 1e-6, "gap forward")

            // A small non-zero start checks "adds into" without costing the 1e-5 gradients of a
            // 16x16 plane their precision when `start` is subtracted back out.
            let dx = mem.copy(start)
            GlobalAveragePool.backward(dOut: mem.copy(r), dx: dx, n: n, c: c, h: h, w: w)
            let rd = r.doubles
            GradCheck.check("gap dx \(n),\(c),\(h),\(w)", analytic: minus(array(dx, x.count), start), at: x.doubles) {
                dotD(rd, Naive.globalAveragePool($0, n: n, c: c, h: h, w: w))
            }
        }
    }

    func testKnownValue() {
        let mem = TestArena()
        defer { mem.free() }
        let out = mem.filled(2)
        GlobalAveragePool.forward(mem.copy([1, 2, 3, 6, -1, -1, -1, -1] as [Float]), out, n: 1, c: 2, h: 2, w: 2)
        XCTAssertEqual(array(out, 2), [3, -1])
        let dx = mem.filled(8, 1)
        GlobalAveragePool.backward(dOut: mem.copy([4, -8] as [Float]), dx: dx, n: 1, c: 2, h: 2, w: 2)
        XCTAssertEqual(array(dx, 8), [2, 2, 2, 2, -1, -1, -1, -1], "adds dOut / (H W) into dx")
    }
}
