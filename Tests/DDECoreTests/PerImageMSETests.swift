import XCTest
import DDECore

final class PerImageMSETests: XCTestCase {
    func testForwardMatchesNaiveAndGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 61)
        for (n, c, h, w) in [(3, 3, 5, 5), (1, 1, 1, 1), (2, 2, 3, 7), (64, 3, 16, 16)] {
            let size = n * c * h * w
            let pred = data.normal(size), target = data.normal(size), dE = data.normal(n)
            let startP = data.normal(size), startT = data.normal(size)
            let ed = dE.doubles, pd = pred.doubles, td = target.doubles
            for threads in [1, 2] {
                withThreads(threads) { ws in
                    let what = "mse \(n),\(c),\(h),\(w)"
                    let mem = TestArena()
                    defer { mem.free() }
                    let pp = mem.copy(pred), tp = mem.copy(target), e = mem.filled(n)
                    PerImageMSE.forward(pred: pp, target: tp, e, n: n, c: c, h: h, w: w, ws)
                    assertClose(array(e, n), Naive.perImageMSE(pred, target, n: n, c: c, h: h, w: w), tolerance: 1e-6, "\(what) forward")

                    let dp = mem.copy(startP), dt = mem.copy(startT)
                    PerImageMSE.backward(dE: mem.copy(dE), pred: pp, target: tp, dPred: dp, dTarget: dt, n: n, c: c, h: h, w: w, ws)
                    // The gradient is recovered as (start + g) - start in Float, which costs ~6e-8
                    // absolute on gradients of ~3e-5 at 64 images: hence 1e-2 relative, not 1e-4.
                    GradCheck.check("\(what) dPred", analytic: minus(array(dp, size), startP), at: pd, tolerance: 1e-2) {
                        dotD(ed, Naive.perImageMSE($0, td, n: n, c: c, h: h, w: w))
                    }
                    GradCheck.check("\(what) dTarget", analytic: minus(array(dt, size), startT), at: td, tolerance: 1e-2) {
                        dotD(ed, Naive.perImageMSE(pd, $0, n: n, c: c, h: h, w: w))
                    }
                }
            }
        }
    }

    func testKnownValue() {
        let ws = Workspace()
        // Image 0: diffs (1, -1, 2, 0) -> 6/4; image 1: all equal -> 0.
        let mem = TestArena()
        defer { mem.free() }
        let e = mem.filled(2)
        PerImageMSE.forward(pred: mem.copy([1, 0, 2, 5, 1, 1, 1, 1] as [Float]),
                            target: mem.copy([0, 1, 0, 5, 1, 1, 1, 1] as [Float]), e, n: 2, c: 1, h: 2, w: 2, ws)
        XCTAssertEqual(array(e, 2), [1.5, 0])
    }
}
