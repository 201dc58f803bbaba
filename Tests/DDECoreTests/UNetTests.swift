import XCTest
import DDECore

final class UNetTests: XCTestCase {
    /// model.md: the reference size has 2,530,371 parameters under diffusers' names.
    func testReferenceSizeHasDiffusersParameterCountAndNames() {
        let store = ParameterStore()
        _ = UNet2DModel(.reference, store: store, workspace: Workspace())
        XCTAssertEqual(store.count, 2_530_371)
        let names = Set(store.slots.map(\.name))
        for name in ["conv_in.weight", "time_embedding.linear_1.weight", "time_embedding.linear_2.bias",
                     "down_blocks.0.resnets.0.norm1.weight", "down_blocks.0.downsamplers.0.conv.weight",
                     "down_blocks.1.resnets.0.conv_shortcut.weight", "mid_block.resnets.1.conv2.bias",
                     "up_blocks.0.resnets.1.conv_shortcut.weight", "up_blocks.0.upsamplers.0.conv.weight",
                     "up_blocks.1.resnets.1.time_emb_proj.weight", "conv_norm_out.bias", "conv_out.weight"] {
            XCTAssertTrue(names.contains(name), name)
        }
        XCTAssertFalse(names.contains("down_blocks.1.downsamplers.0.conv.weight"), "no downsampler at the last level")
        XCTAssertFalse(names.contains("up_blocks.1.upsamplers.0.conv.weight"), "no upsampler at the last level")
        XCTAssertFalse(names.contains("up_blocks.0.resnets.2.conv1.weight"), "up blocks have layers_per_block + 1 resnets")
        XCTAssertEqual(store.slot(named: "up_blocks.0.resnets.0.conv1.weight")?.shape, [128, 256, 3, 3])
        XCTAssertEqual(store.slot(named: "up_blocks.0.resnets.1.conv1.weight")?.shape, [128, 192, 3, 3])
        XCTAssertEqual(store.slot(named: "up_blocks.1.resnets.0.conv1.weight")?.shape, [64, 192, 3, 3])
        XCTAssertEqual(store.slot(named: "up_blocks.1.resnets.1.conv1.weight")?.shape, [64, 128, 3, 3])
    }

    func testResnetBlockGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 21)
        for (c, oc) in [(4, 4), (4, 8)] {
            let (n, h, w, e, groups) = (2, 3, 5, 6, 2)
            let store = ParameterStore()
            let block = ResnetBlock(store, "r", inChannels: c, outChannels: oc, groups: groups, embeddingDimension: e)
            store.seal()
            for slot in store.slots { load(store, slot, data.normal(slot.count, scale: 0.5)) }
            let x = data.normal(n * c * h * w), es = data.normal(n * e)
            let ws = Workspace()
            let out = x.withUnsafeBufferPointer { xp in es.withUnsafeBufferPointer { ep in
                Array(UnsafeBufferPointer(start: block.forward(xp.baseAddress!, embSiLU: ep.baseAddress!, n: n, h: h, w: w, store, ws),
                                          count: n * oc * h * w))
            } }
            var params = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
            func naive(_ x: [Double], _ es: [Double]) -> [Double] {
                Naive.resnetBlock({ params[$0]! }, "r", x, embSiLU: es, n: n, c: c, oc: oc, h: h, w: w, groups: groups, embedding: e)
            }
            assertClose(out, naive(x.doubles, es.doubles).map(Float.init), "resnet forward \(c)->\(oc)")

            let r = data.normal(n * oc * h * w), rd = r.doubles
            let dx = FloatBuffer(count: x.count), des = FloatBuffer(count: es.count)
            store.zeroGrads()
            r.withUnsafeBufferPointer { rp in x.withUnsafeBufferPointer { xp in es.withUnsafeBufferPointer { ep in
                block.backward(dOut: rp.baseAddress!, x: xp.baseAddress!, dx: dx.pointer, embSiLU: ep.baseAddress!,
                               dEmbSiLU: des.pointer, n: n, h: h, w: w, store, ws)
            } } }
            GradCheck.check("resnet dx", analytic: dx.array(x.count), at: x.doubles) { dotD(rd, naive($0, es.doubles)) }
            GradCheck.check("resnet dEmb", analytic: des.array(es.count), at: es.doubles) { dotD(rd, naive(x.doubles, $0)) }
            for slot in store.slots {
                let saved = params[slot.name]!
                GradCheck.check("resnet \(slot.name)", analytic: readGrad(store, slot), at: saved) {
                    params[slot.name] = $0
                    defer { params[slot.name] = saved }
                    return dotD(rd, naive(x.doubles, es.doubles))
                }
            }
        }
    }

    /// The whole U-Net at a tiny size against its naive twin (forward) and against finite
    /// differences of the twin in Double (every parameter tensor, and the conditioning input).
    /// Tolerance 1e-3, not the default 1e-4: the fast network runs in Float through ~20 layers,
    /// and its smallest parameter gradients (1e-5 of the largest, deep norm biases) carry
    /// ~2e-4 relative rounding error; a wiring mistake gives errors of order 1.
    func testWholeNetworkMatchesNaiveTwinAndFiniteDifferences() {
        for (channels, layers) in [([8, 16], 2), ([8, 8, 16], 1)] {
            var data = TestData(seed: 33)
            let config = UNetConfig(blockOutChannels: channels, layersPerBlock: layers, normNumGroups: 4, sampleSize: 4)
            let store = ParameterStore()
            let unet = UNet2DModel(config, store: store, workspace: Workspace())
            store.seal()
            var rng = RandomStream(seed: 1)
            unet.initialize(&rng)
            // Non-trivial norms so their gradients are exercised too.
            for slot in store.slots where slot.name.contains("norm") { load(store, slot, data.normal(slot.count, scale: 0.3).map { $0 + 1 }) }
            let n = 2, e = config.embeddingDimension, d = 3 * 16
            let x = data.normal(n * d), cond = data.normal(n * e), steps: [Float] = [3, 917]
            let pred = x.withUnsafeBufferPointer { xp in cond.withUnsafeBufferPointer { cp in
                Array(UnsafeBufferPointer(start: unet.forward(xp.baseAddress!, steps: steps, cond: cp.baseAddress!, n: n), count: n * d))
            } }
            var params = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
            func naive(_ cond: [Double]) -> [Double] {
                Naive.unet(config, { params[$0]! }, x: x.doubles, steps: steps.map(Double.init), cond: cond, n: n)
            }
            assertClose(pred, naive(cond.doubles).map(Float.init), "unet forward \(channels)")

            let r = data.normal(n * d), rd = r.doubles
            store.zeroGrads()
            unet.backward(r)
            GradCheck.check("unet d cond", analytic: unet.condGradient.array(n * e), at: cond.doubles, tolerance: 1e-3) { dotD(rd, naive($0)) }
            for slot in store.slots {
                let saved = params[slot.name]!
                GradCheck.check("unet \(channels) \(slot.name)", analytic: readGrad(store, slot), at: saved,
                                tolerance: 1e-3, maxCoordinates: 4) {
                    params[slot.name] = $0
                    defer { params[slot.name] = saved }
                    return dotD(rd, naive(cond.doubles))
                }
            }
        }
    }

    /// A forward that keeps no activations (frozen reference, sampling) predicts the same bits
    /// and holds far less: the resnets' inner activations, the concatenations, the upsampling
    /// and the last norm go to the workspace's named transient buffers.
    func testForwardWithoutActivationsPredictsTheSameAndHoldsLess() {
        let config = UNetConfig(blockOutChannels: [16, 32], layersPerBlock: 1, normNumGroups: 4, sampleSize: 8)
        var data = TestData(seed: 34)
        let n = 8, e = config.embeddingDimension, d = 3 * 64
        let x = data.normal(n * d), cond = data.normal(n * e), steps = (0..<n).map { Float($0 * 120) }
        func run(keep: Bool) -> (prediction: [Float], floats: Int) {
            let store = ParameterStore()
            // One image per convolution chunk, so that the convolutions' scratch is small beside the activations.
            let unet = UNet2DModel(config, store: store, workspace: Workspace(columnBudget: 1))
            store.seal()
            var rng = RandomStream(seed: 2)
            unet.initialize(&rng)
            let before = FloatBuffer.liveFloats
            let pred = x.withUnsafeBufferPointer { xp in cond.withUnsafeBufferPointer { cp in
                Array(UnsafeBufferPointer(start: unet.forward(xp.baseAddress!, steps: steps, cond: cp.baseAddress!, n: n,
                                                              keepActivations: keep), count: n * d))
            } }
            return (pred, FloatBuffer.liveFloats - before)
        }
        let kept = run(keep: true), transient = run(keep: false)
        XCTAssertEqual(kept.prediction, transient.prediction)
        // 56% here: the transient buffers are sized for the widest layer, which on this toy
        // model is a large share (on the reference model the DPO bench peak fell from 664 to 482 MiB).
        XCTAssertLessThan(Double(transient.floats), 0.6 * Double(kept.floats),
                          "floats held after the forward: \(kept.floats) kept vs \(transient.floats)")
    }
}
