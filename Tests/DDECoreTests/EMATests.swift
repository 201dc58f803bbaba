import XCTest
import DDECore

final class EMATests: XCTestCase {
    /// ema 1, p 3, decay 0.9: 1 - 0.1 (1 - 3) = 1.2, then 1.2 - 0.1 (1.2 - 3) = 1.38; with p
    /// then moved to -1: 1.38 - 0.1 (1.38 + 1) = 1.142.
    func testHandComputed() {
        let ws = Workspace()
        let store = makeStore([("w", [1])])
        store.params.pointer[0] = 1
        let ema = EMA(store, decay: 0.9)
        XCTAssertEqual(ema.weights.pointer[0], 1, "starts at the parameters")
        store.params.pointer[0] = 3
        ema.update(store, ws)
        XCTAssertEqual(ema.weights.pointer[0], 1.2, accuracy: 1e-6)
        ema.update(store, ws)
        XCTAssertEqual(ema.weights.pointer[0], 1.38, accuracy: 1e-6)
        store.params.pointer[0] = -1
        ema.update(store, ws)
        XCTAssertEqual(ema.weights.pointer[0], 1.142, accuracy: 1e-6)
        XCTAssertEqual(store.params.pointer[0], -1, "update leaves the parameters alone")
    }

    /// Several updates with moving parameters against a Double loop, on one and two threads;
    /// then copyTo puts exactly the averaged weights into the store.
    func testMatchesDoubleLoopAndCopiesTo() {
        var data = TestData(seed: 51)
        for threads in [1, 2] {
            withThreads(threads) { ws in
                let store = makeLargeStore()
                let n = store.count
                fill(store.params.pointer, data.normal(n))
                let ema = EMA(store, decay: 0.99)
                var reference = store.params.array(n).doubles
                for _ in 0..<6 {
                    let p = data.normal(n)
                    fill(store.params.pointer, p)
                    ema.update(store, ws)
                    for i in 0..<n { reference[i] = 0.99 * reference[i] + 0.01 * Double(p[i]) }
                }
                assertClose(ema.weights.array(n), reference.map { Float($0) }, tolerance: 1e-6, "EMA, threads \(threads)")
                ema.copyTo(store)
                XCTAssertEqual(store.params.array(n), ema.weights.array(n))
            }
        }
    }

    func testDecayExtremesAndPerCallDecay() {
        let ws = Workspace()
        let store = makeStore([("w", [3])])
        fill(store.params.pointer, [1, 2, 3])
        let ema = EMA(store, decay: 1)
        fill(store.params.pointer, [7, 8, 9])
        ema.update(store, ws)
        XCTAssertEqual(ema.weights.array(3), [1, 2, 3], "decay 1 never moves")
        ema.update(store, decay: 0, ws)
        XCTAssertEqual(ema.weights.array(3), [7, 8, 9], "decay 0 copies")
        XCTAssertEqual(ema.decay, 1)
        fill(store.params.pointer, [0, 0, 0])
        ema.reset(store)
        XCTAssertEqual(ema.weights.array(3), [0, 0, 0])
    }
}
