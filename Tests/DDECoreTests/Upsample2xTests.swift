import XCTest
import DDECore

final class Upsample2xTests: XCTestCase {
    func testForwardMatchesNaiveAndGradientMatchesFiniteDifferences() {
        var data = TestData(seed: 31)
        for (n, c, h, w) in [(3, 2, 5, 5), (1, 1, 1, 1), (2, 3, 4, 7), (4, 64, 8, 8)] {
            let size = n * c * h * w, outSize = 4 * size
            let x = data.normal(size), r = data.normal(outSize), start = data.normal(size)
            let rd = r.doubles
            for threads in [1, 2] {
                withThreads(threads) { ws in
                    let mem = TestArena()
                    defer { mem.free() }
                    let out = mem.filled(outSize)
                    Upsample2x.forward(mem.copy(x), out, n: n, c: c, h: h, w: w, ws)
                    XCTAssertEqual(array(out, outSize), Naive.upsample2x(x, n: n, c: c, h: h, w: w), "forward \(n),\(c),\(h),\(w)")

                    let dx = mem.copy(start)
                    Upsample2x.backward(dOut: mem.copy(r), dx: dx, n: n, c: c, h: h, w: w, ws)
                    GradCheck.check("upsample dx \(n),\(c),\(h),\(w)", analytic: minus(array(dx, size), start), at: x.doubles) {
                        dotD(rd, Naive.upsample2x($0, n: n, c: c, h: h, w: w))
                    }
                }
            }
        }
    }

    func testKnownValues() {
        let ws = Workspace()
        // One 2x2 plane -> 4x4 of 2x2 blocks; backward sums each block.
        let mem = TestArena()
        defer { mem.free() }
        let out = mem.filled(16)
        Upsample2x.forward(mem.copy([1, 2, 3, 4] as [Float]), out, n: 1, c: 1, h: 2, w: 2, ws)
        XCTAssertEqual(array(out, 16), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let dx = mem.copy([10, 0, 0, 0] as [Float])
        Upsample2x.backward(dOut: mem.copy((0..<16).map(Float.init)), dx: dx, n: 1, c: 1, h: 2, w: 2, ws)
        let expected: [Float] = [20, 18, 42, 50]   // 10 + (0+1+4+5), 2+3+6+7, 8+9+12+13, 10+11+14+15
        XCTAssertEqual(array(dx, 4), expected)
    }
}
