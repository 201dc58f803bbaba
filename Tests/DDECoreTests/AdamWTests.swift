import XCTest
import DDECore

final class AdamWTests: XCTestCase {
    /// Several steps of the fused Float loop against `Naive.adamW` in Double, on one thread
    /// and split over two, with and without weight decay and with the exclusion mask; the
    /// configurations make every term matter (eps comparable to sqrt(vhat), betas not the
    /// defaults, decay only on some tensors, a different lr each step).
    func testMatchesNaiveTwinInDoubleOverSeveralSteps() {
        struct Config { let wd: Double; let eps: Double; let b1: Double; let b2: Double; let gScale: Float; let mask: Bool }
        let configs = [Config(wd: 0, eps: 1e-8, b1: 0.9, b2: 0.999, gScale: 1, mask: false),
                       Config(wd: 0.1, eps: 1e-3, b1: 0.8, b2: 0.95, gScale: 1e-3, mask: false),
                       Config(wd: 0.05, eps: 1e-8, b1: 0.9, b2: 0.999, gScale: 1, mask: true)]
        var data = TestData(seed: 7)
        for threads in [1, 2] {
            withThreads(threads) { ws in
                for c in configs {
                    let store = makeLargeStore()
                    let n = store.count
                    let decays: (String) -> Bool = c.mask ? { !$0.hasSuffix(".bias") && !$0.hasPrefix("norm.") } : { _ in true }
                    let adam = AdamW(store, beta1: c.b1, beta2: c.b2, eps: c.eps, weightDecay: c.wd, decays: decays)
                    XCTAssertEqual(adam.excludedFromDecay, c.mask ? ["norm.weight", "out.bias"] : [])

                    var wdPerElement = [Double](repeating: c.wd, count: n)
                    for slot in store.slots where !decays(slot.name) {
                        for i in slot.offset..<(slot.offset + slot.count) { wdPerElement[i] = 0 }
                    }
                    let p0 = data.normal(n)
                    fill(store.params.pointer, p0)
                    var p = p0.doubles, m = [Double](repeating: 0, count: n), v = m
                    for t in 1...5 {
                        let g = data.normal(n, scale: c.gScale)
                        fill(store.grads.pointer, g)
                        let lr = Double(t) * 1e-2
                        let before = array(store.params.pointer, n)
                        adam.update(store, lr: lr, ws)
                        let naiveBefore = p
                        Naive.adamW(params: &p, grads: g.doubles, m: &m, v: &v, t: t, lr: lr,
                                    beta1: c.b1, beta2: c.b2, eps: c.eps, weightDecay: wdPerElement)
                        XCTAssertEqual(adam.step, t)
                        let what = "threads \(threads) wd \(c.wd) eps \(c.eps) mask \(c.mask) step \(t)"
                        // The update itself (p_t - p_{t-1}), so a small error cannot hide under |p|.
                        let after = array(store.params.pointer, n)
                        let delta = (0..<n).map { after[$0] - before[$0] }
                        let naiveDelta = (0..<n).map { Float(p[$0] - naiveBefore[$0]) }
                        assertClose(delta, naiveDelta, tolerance: 1e-4, "AdamW update, \(what)")
                        assertClose(after, p.map { Float($0) }, tolerance: 1e-6, "AdamW params, \(what)")
                        assertClose(adam.m.array(n), m.map { Float($0) }, tolerance: 1e-6, "AdamW m, \(what)")
                        assertClose(adam.v.array(n), v.map { Float($0) }, tolerance: 1e-6, "AdamW v, \(what)")
                    }
                }
            }
        }
    }

    /// Two steps on two one-element tensors, lr 0.1, wd 0.1, betas (0.9, 0.999), eps 1e-8;
    /// "w" is decayed, "b" is excluded. Both start at 1 with gradients 0.5, then -1.
    ///
    /// Step 1 (t = 1): bc1 = 1 - 0.9 = 0.1, bc2 = 1 - 0.999 = 0.001
    ///   m = 0.1 * 0.5 = 0.05,  v = 0.001 * 0.25 = 0.00025
    ///   mhat = 0.05 / 0.1 = 0.5,  vhat = 0.00025 / 0.001 = 0.25,  sqrt(vhat) = 0.5
    ///   update = 0.1 * 0.5 / (0.5 + 1e-8) = 0.099999998
    ///   w: 1 * (1 - 0.1 * 0.1) = 0.99, then 0.99 - 0.099999998 = 0.890000002
    ///   b: 1 - 0.099999998 = 0.900000002
    /// Step 2 (t = 2): bc1 = 1 - 0.81 = 0.19, bc2 = 1 - 0.998001 = 0.001999
    ///   m = 0.9 * 0.05 + 0.1 * (-1) = -0.055
    ///   v = 0.999 * 0.00025 + 0.001 * 1 = 0.00124975
    ///   mhat = -0.055 / 0.19 = -0.289473684,  vhat = 0.00124975 / 0.001999 = 0.625187594
    ///   sqrt(vhat) = 0.790688051,  update = 0.1 * -0.289473684 / 0.790688061 = -0.036610352
    ///   w: 0.890000002 * 0.99 = 0.881100002, then + 0.036610352 = 0.917710354
    ///   b: 0.900000002 + 0.036610352 = 0.936610354
    func testHandComputedTwoSteps() {
        let ws = Workspace()
        let store = makeStore([("w", [1]), ("b", [1])])
        let adam = AdamW(store, weightDecay: 0.1, decays: { $0 != "b" })
        XCTAssertTrue(adam.decays(store.slot(named: "w")!))
        XCTAssertFalse(adam.decays(store.slot(named: "b")!))
        fill(store.params.pointer, [1, 1])
        fill(store.grads.pointer, [0.5, 0.5])
        adam.update(store, lr: 0.1, ws)
        XCTAssertEqual(adam.m.array(2), [0.05, 0.05])
        XCTAssertEqual(adam.v.array(2)[0], 0.00025, accuracy: 1e-10)
        XCTAssertEqual(store.params.array(2)[0], 0.890000002, accuracy: 1e-7)
        XCTAssertEqual(store.params.array(2)[1], 0.900000002, accuracy: 1e-7)
        fill(store.grads.pointer, [-1, -1])
        adam.update(store, lr: 0.1, ws)
        XCTAssertEqual(adam.step, 2)
        XCTAssertEqual(adam.m.array(2)[0], -0.055, accuracy: 1e-8)
        XCTAssertEqual(adam.v.array(2)[1], 0.00124975, accuracy: 1e-9)
        XCTAssertEqual(store.params.array(2)[0], 0.917710354, accuracy: 2e-7)
        XCTAssertEqual(store.params.array(2)[1], 0.936610354, accuracy: 2e-7)
    }

    /// The default decays every tensor, like PyTorch with one parameter group.
    func testDefaultDecaysEverything() {
        let ws = Workspace()
        let store = makeStore([("fc.weight", [2, 2]), ("fc.bias", [2]), ("norm.weight", [2])])
        let adam = AdamW(store)
        XCTAssertEqual(adam.weightDecay, 0.01)
        XCTAssertEqual(adam.excludedFromDecay, [])
        for slot in store.slots { XCTAssertTrue(adam.decays(slot), slot.name) }
        // Zero gradient: Adam's part is 0 / (0 + eps) = 0, so only the decay moves p.
        fill(store.params.pointer, [Float](repeating: 2, count: store.count))
        adam.update(store, lr: 0.5, ws)
        for (i, p) in store.params.array(store.count).enumerated() {
            XCTAssertEqual(p, 1.99, accuracy: 1e-6, "index \(i)")   // 2 * (1 - 0.5 * 0.01)
        }
    }

    /// Restoring `m`, `v` and `step` into a fresh optimizer continues the run bit for bit.
    func testRestoredStateContinuesExactly() {
        var data = TestData(seed: 11)
        let grads = (0..<5).map { _ in data.normal(4_000) }
        let p0 = data.normal(4_000)
        func run(_ store: ParameterStore, _ adam: AdamW, _ steps: Range<Int>) {
            let ws = Workspace()
            for s in steps {
                fill(store.grads.pointer, grads[s])
                adam.update(store, lr: 1e-3, ws)
            }
        }
        let straight = makeStore([("a", [1_000, 3]), ("b", [1_000])])
        fill(straight.params.pointer, p0)
        run(straight, AdamW(straight, weightDecay: 0.1), 0..<5)

        let first = makeStore([("a", [1_000, 3]), ("b", [1_000])])
        fill(first.params.pointer, p0)
        let adam1 = AdamW(first, weightDecay: 0.1)
        run(first, adam1, 0..<3)
        // "Checkpoint": params, m, v, step.
        let resumed = makeStore([("a", [1_000, 3]), ("b", [1_000])])
        fill(resumed.params.pointer, first.params.array(4_000))
        let adam2 = AdamW(resumed, weightDecay: 0.1)
        fill(adam2.m.pointer, adam1.m.array(4_000))
        fill(adam2.v.pointer, adam1.v.array(4_000))
        adam2.step = adam1.step
        run(resumed, adam2, 3..<5)
        XCTAssertEqual(resumed.params.array(4_000), straight.params.array(4_000))
        XCTAssertEqual(adam2.step, 5)

        adam2.reset()
        XCTAssertEqual(adam2.step, 0)
        XCTAssertEqual(adam2.m.array(4_000), [Float](repeating: 0, count: 4_000))
        XCTAssertEqual(adam2.v.array(4_000), [Float](repeating: 0, count: 4_000))
    }
}
