import XCTest
import DDECore

final class GradientClippingTests: XCTestCase {
    /// The parallel Double norm equals a plain Double loop, on one and on two threads.
    func testNormMatchesPlainDoubleLoop() {
        let ws = Workspace()
        var data = TestData(seed: 21)
        let store = makeLargeStore()
        let g = data.normal(store.count, scale: 3)
        fill(store.grads.pointer, g)
        var s = 0.0
        for x in g { s += Double(x) * Double(x) }
        for threads in [1, 2] {
            withThreads(threads) { ws in
                XCTAssertEqual(gradientNorm(store, ws), s.squareRoot(), accuracy: 1e-10 * s.squareRoot(), "threads \(threads)")
            }
        }
        // Odd sizes exercise the 8-lane remainder.
        for n in [0, 1, 7, 9, 33] {
            let small = makeStore([("x", [n])])
            let v = data.normal(n)
            fill(small.grads.pointer, v)
            let expected = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertEqual(gradientNorm(small, ws), expected, accuracy: 1e-12, "n \(n)")
        }
    }

    /// Float accumulation would lose these: 1e6 ones next to one 1e4 (sum of squares 1e8 + 1e6).
    func testNormAccumulatesInDouble() {
        let ws = Workspace()
        let store = makeStore([("big", [1]), ("many", [1_000_000])])
        fill(store.grads.pointer, [1e4] + [Float](repeating: 1, count: 1_000_000))
        XCTAssertEqual(gradientNorm(store, ws), (1e8 + 1e6).squareRoot(), accuracy: 1e-9)
    }

    /// Gradients (3, 4) have norm 5; maxNorm 1 scales them by 1 / (5 + 1e-6) to (0.6, 0.8).
    func testClipHandComputed() {
        let ws = Workspace()
        let store = makeStore([("a", [1]), ("b", [1])])
        fill(store.grads.pointer, [3, 4])
        let norm = clipGradNorm(store, maxNorm: 1, ws)
        XCTAssertEqual(norm, 5)
        XCTAssertEqual(store.grads.array(2)[0], Float(3.0 / (5 + 1e-6)), accuracy: 1e-7)
        XCTAssertEqual(store.grads.array(2)[1], Float(4.0 / (5 + 1e-6)), accuracy: 1e-7)
        XCTAssertEqual(gradientNorm(store, ws), 1, accuracy: 1e-6)

        // PyTorch's 1e-6 matters for tiny gradients: (3e-6, 4e-6) has norm 5e-6, and with
        // maxNorm 1e-6 the coefficient is 1e-6 / (5e-6 + 1e-6) = 1/6, not 1/5.
        fill(store.grads.pointer, [3e-6, 4e-6])
        XCTAssertEqual(clipGradNorm(store, maxNorm: 1e-6, ws), 5e-6, accuracy: 1e-12)
        XCTAssertEqual(store.grads.array(2)[0], 0.5e-6, accuracy: 1e-12)
        XCTAssertEqual(store.grads.array(2)[1], 4e-6 / 6, accuracy: 1e-12)
    }

    /// Above maxNorm: direction kept, new norm maxNorm, the pre-clip norm returned.
    /// Below: gradients bit-identical.
    func testClipAboveAndBelowMaxNorm() {
        var data = TestData(seed: 22)
        for threads in [1, 2] {
            withThreads(threads) { ws in
                let store = makeLargeStore()
                let g = data.normal(store.count)
                fill(store.grads.pointer, g)
                let before = gradientNorm(store, ws)
                let returned = clipGradNorm(store, maxNorm: 2, ws)
                XCTAssertEqual(Double(returned), before, accuracy: 1e-6 * before)
                XCTAssertEqual(gradientNorm(store, ws), 2, accuracy: 1e-5)
                let coefficient = Float(2 / (before + 1e-6))
                assertClose(store.grads.array(store.count), g.map { $0 * coefficient }, tolerance: 1e-6, "clipped direction")

                fill(store.grads.pointer, g)
                let untouched = clipGradNorm(store, maxNorm: before * 1.01, ws)
                XCTAssertEqual(Double(untouched), before, accuracy: 1e-6 * before)
                XCTAssertEqual(store.grads.array(store.count), g, "below maxNorm the gradients must not change")
            }
        }
    }

    /// A non-finite norm is returned and the gradients are left for `FiniteCheck` to report.
    func testClipWithNonFiniteGradient() {
        let ws = Workspace()
        let store = makeStore([("a", [3])])
        fill(store.grads.pointer, [1, .nan, 2])
        XCTAssertTrue(clipGradNorm(store, maxNorm: 1, ws).isNaN)
        XCTAssertEqual(store.grads.array(3)[0], 1)
        XCTAssertEqual(store.grads.array(3)[2], 2)
        fill(store.grads.pointer, [1, .infinity, 2])
        XCTAssertEqual(clipGradNorm(store, maxNorm: 1, ws), .infinity)
        XCTAssertEqual(store.grads.array(3)[0], 1)
    }
}
