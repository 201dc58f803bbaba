import XCTest
import DDECore

final class FiniteCheckTests: XCTestCase {
    func testCleanBuffersReportNothing() {
        let ws = Workspace()
        var data = TestData(seed: 31)
        let store = makeLargeStore()
        fill(store.params.pointer, data.normal(store.count))
        // Extremes that are still finite: largest, smallest subnormal, -0.
        fill(store.grads.pointer, [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0])
        for threads in [1, 2] {
            withThreads(threads) { ws in
                XCTAssertNil(FiniteCheck.firstNonFiniteParameter(store, ws))
                XCTAssertNil(FiniteCheck.firstNonFiniteGradient(store, ws))
            }
        }
        XCTAssertNil(FiniteCheck.firstNonFinite(store.params.pointer, count: 0, ws))
    }

    /// The first bad index wins, also when a later one sits in the other thread's chunk or in
    /// an earlier position of a later block; the slot and the index inside it are named.
    func testFindsTheFirstNonFiniteValueAndNamesItsTensor() {
        let store = makeLargeStore()   // conv.weight 20000, norm.weight 30000 @20000, out.bias 10 @50000, out.weight @50010
        let n = store.count
        let cases: [([(Int, Float)], Int, String, Int)] = [
            ([(0, .nan)], 0, "conv.weight", 0),
            ([(n - 1, .infinity)], n - 1, "out.weight", 19_999),
            ([(50_003, -.infinity), (40_000, .nan)], 40_000, "norm.weight", 20_000),   // both in the 2nd chunk
            ([(60_000, .nan), (1_025, .infinity)], 1_025, "conv.weight", 1_025),       // one per chunk
            ([(50_009, .nan)], 50_009, "out.bias", 9),
            ([(2_047, .nan), (2_048, .nan)], 2_047, "conv.weight", 2_047),             // last of a block
            ([(3_500, .infinity), (3_100, .nan)], 3_100, "conv.weight", 3_100),        // two in one block (3072..<4096)
        ]
        for threads in [1, 2] {
            withThreads(threads) { ws in
                for (bad, index, slot, inSlot) in cases {
                    store.zeroGrads()
                    for (i, x) in bad { store.grads.pointer[i] = x }
                    let f = FiniteCheck.firstNonFiniteGradient(store, ws)
                    XCTAssertEqual(f?.index, index, "threads \(threads) \(bad)")
                    XCTAssertEqual(f?.slot, slot)
                    XCTAssertEqual(f?.indexInSlot, inSlot)
                    XCTAssertEqual(f?.value.isFinite, false)
                    XCTAssertEqual(FiniteCheck.firstNonFinite(store.grads.pointer, count: n, ws), index)
                    XCTAssertNil(FiniteCheck.firstNonFiniteParameter(store, ws), "params are clean")
                }
            }
        }
    }

    func testScansParallelBuffersAndDescribesTheFinding() {
        let ws = Workspace()
        let store = makeStore([("fc.weight", [2, 3]), ("fc.bias", [2])])
        let moments = FloatBuffer(count: store.count)
        moments.pointer[7] = -.infinity
        let f = FiniteCheck.firstNonFinite(moments, in: store, ws)
        XCTAssertEqual(f?.index, 7)
        XCTAssertEqual(f?.value, -.infinity)
        XCTAssertEqual(f?.slot, "fc.bias")
        XCTAssertEqual(f?.indexInSlot, 1)
        XCTAssertEqual(f?.description, "-inf at fc.bias[1] (flat index 7)")
    }

    func testSlotContainingIndex() {
        let store = makeStore([("a", [2, 2]), ("empty", [0]), ("b", [3]), ("c", [1])])
        let expected = ["a", "a", "a", "a", "b", "b", "b", "c"]
        for (i, name) in expected.enumerated() { XCTAssertEqual(store.slot(containing: i)?.name, name, "index \(i)") }
        XCTAssertNil(store.slot(containing: -1))
        XCTAssertNil(store.slot(containing: 8))
    }
}
