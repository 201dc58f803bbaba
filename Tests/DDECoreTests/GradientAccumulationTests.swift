import XCTest
import DDECore

final class GradientAccumulationTests: XCTestCase {
    /// Mean squared error over one (micro-)batch through `Linear`: forward, then backward of
    /// `L = mean((y - t)^2)` over the batch's N * OUT outputs, *added* into the store's grads.
    /// y: (N, OUT)  dL/dy = 2 (y - t) / (N * OUT)
    private func meanSquaredBackward(_ layer: Linear, _ store: ParameterStore,
                                     x: ArraySlice<Float>, target: ArraySlice<Float>, n: Int) {
        let ws = Workspace()
        let out = FloatBuffer(count: n * layer.outFeatures)
        let dOut = FloatBuffer(count: n * layer.outFeatures)
        let x = Array(x), target = Array(target)
        x.withUnsafeBufferPointer { layer.forward($0.baseAddress!, out.pointer, n: n, store, ws) }
        let scale = 2 / Float(n * layer.outFeatures)
        for i in 0..<(n * layer.outFeatures) { dOut.pointer[i] = scale * (out.pointer[i] - target[i]) }
        x.withUnsafeBufferPointer {
            layer.backward(dOut: dOut.pointer, x: $0.baseAddress!, dx: nil, n: n, store, ws)
        }
    }

    /// One batch of 8 versus 4 micro-batches of 2 accumulated and scaled by 1/4: same
    /// gradients (1e-5 relative), and one AdamW step from each gives the same weights.
    func testFourMicroBatchesOfTwoEqualOneBatchOfEight() {
        let ws = Workspace()
        let (fin, fout, n, k) = (5, 3, 8, 4)
        var data = TestData(seed: 41)
        var rng = RandomStream(seed: 41, stream: 0)
        let x = data.normal(n * fin), target = data.normal(n * fout)

        let full = ParameterStore()
        let layerFull = Linear(full, "fc", inFeatures: fin, outFeatures: fout)
        full.seal()
        layerFull.initialize(full, &rng)
        let accumulated = ParameterStore()
        let layerAcc = Linear(accumulated, "fc", inFeatures: fin, outFeatures: fout)
        accumulated.seal()
        fill(accumulated.params.pointer, full.params.array(full.count))

        full.zeroGrads()
        meanSquaredBackward(layerFull, full, x: x[...], target: target[...], n: n)

        accumulated.zeroGrads()
        let micro = n / k
        for j in 0..<k {
            meanSquaredBackward(layerAcc, accumulated, x: x[(j * micro * fin)..<((j + 1) * micro * fin)],
                                target: target[(j * micro * fout)..<((j + 1) * micro * fout)], n: micro)
        }
        // Unscaled, the accumulated gradient is k times the full one...
        assertClose(accumulated.grads.array(accumulated.count), full.grads.array(full.count).map { $0 * Float(k) },
                    tolerance: 1e-5, "sum of micro-batch gradients")
        // ...and scaling by 1/k makes them equal.
        scaleGradients(accumulated, 1 / Float(k), ws)
        for slot in [layerFull.weight, layerFull.bias!] {
            assertClose(readGrad(accumulated, accumulated.slot(named: slot.name)!), readGrad(full, slot),
                        tolerance: 1e-5, "accumulated gradient of \(slot.name)")
        }

        let adamFull = AdamW(full, weightDecay: 0.1, decays: { !$0.hasSuffix(".bias") })
        let adamAcc = AdamW(accumulated, weightDecay: 0.1, decays: { !$0.hasSuffix(".bias") })
        let before = full.params.array(full.count)
        adamFull.update(full, lr: 1e-2, ws)
        adamAcc.update(accumulated, lr: 1e-2, ws)
        XCTAssertNotEqual(full.params.array(full.count), before, "the step moved the weights")
        assertClose(accumulated.params.array(accumulated.count), full.params.array(full.count),
                    tolerance: 1e-5, "weights after one AdamW step")
    }

    func testScaleGradientsMultipliesEveryGradientOnce() {
        var data = TestData(seed: 42)
        for threads in [1, 2] {
            withThreads(threads) { ws in
                let store = makeLargeStore()
                let g = data.normal(store.count)
                fill(store.grads.pointer, g)
                scaleGradients(store, 0.25, ws)
                XCTAssertEqual(store.grads.array(store.count), g.map { $0 * 0.25 }, "threads \(threads)")
                XCTAssertEqual(store.params.array(store.count), [Float](repeating: 0, count: store.count),
                               "params untouched")
            }
        }
    }
}
