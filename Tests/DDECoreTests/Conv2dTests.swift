import XCTest
import DDECore

final class Conv2dTests: XCTestCase {
    struct Shape { let n, c, h, w, oc, k, s, p: Int }

    static let shapes: [Shape] = [
        Shape(n: 2, c: 3, h: 5, w: 5, oc: 4, k: 3, s: 1, p: 1),   // odd size, padded
        Shape(n: 3, c: 5, h: 7, w: 6, oc: 3, k: 3, s: 2, p: 1),   // stride 2, odd and non-square
        Shape(n: 2, c: 4, h: 4, w: 4, oc: 6, k: 1, s: 1, p: 0),   // 1x1 (pointwise path)
        Shape(n: 1, c: 2, h: 6, w: 5, oc: 2, k: 3, s: 1, p: 0),   // unpadded
        Shape(n: 5, c: 3, h: 8, w: 8, oc: 5, k: 3, s: 2, p: 1),   // the downsampler's shape
        Shape(n: 1, c: 1, h: 1, w: 1, oc: 1, k: 3, s: 1, p: 1),   // a single pixel
        Shape(n: 5, c: 16, h: 12, w: 12, oc: 16, k: 3, s: 1, p: 1), // big enough to split images across threads (uneven shares)
        // Winograd: with conv.winograd = f4x4, F(4x4,3x3) on tile rows of 2 (8x8), 4 (16x16)
        // and 8 + 1 (4x36) tiles (the shape above: 3 tiles), F(2x2,3x3) on 6x20 (8 + 2 tiles a
        // row) and 2x2 (one tile); with f2x2, F(2x2,3x3) on all of them.
        Shape(n: 3, c: 16, h: 8, w: 8, oc: 24, k: 3, s: 1, p: 1),
        Shape(n: 2, c: 24, h: 6, w: 20, oc: 16, k: 3, s: 1, p: 1),
        Shape(n: 3, c: 16, h: 16, w: 16, oc: 16, k: 3, s: 1, p: 1),
        Shape(n: 2, c: 16, h: 2, w: 2, oc: 17, k: 3, s: 1, p: 1),
        Shape(n: 2, c: 16, h: 4, w: 36, oc: 16, k: 3, s: 1, p: 1),
        // F(4x4,3x3)'s lanes are images: 19 (one thread: two groups of eight and three alone;
        // two: 10 and 9) runs the eight-lane path and the one-lane tail in one call.
        Shape(n: 19, c: 16, h: 8, w: 8, oc: 16, k: 3, s: 1, p: 1),
        // 17 images (8 + 8 + 1 on one thread, 9 + 8 on two) on rows of 20: the eight-lane
        // plane copies move two 8x8 blocks a row by transposes and the last four one by one.
        Shape(n: 17, c: 16, h: 4, w: 20, oc: 16, k: 3, s: 1, p: 1),
    ]

    /// Which algorithm each shape above takes under each setting (the tests run them all).
    func testShapesTakeTheIntendedAlgorithm() {
        func names(_ setting: Conv2d.WinogradSetting) -> [String] {
            let ws = Workspace(convolution: setting)
            return Self.shapes.map { sh in make(sh).1.winogradVariant(height: sh.h, width: sh.w, ws).map { "\($0)" } ?? "im2col" }
        }
        let f4 = "WinogradF4x3", f2 = "WinogradF2x3"
        XCTAssertEqual(names(.f4x4), ["im2col", "im2col", "im2col", "im2col", "im2col", "im2col", f4, f4, f2, f4, f2, f4, f4, f4])
        XCTAssertEqual(names(.f2x2), ["im2col", "im2col", "im2col", "im2col", "im2col", "im2col", f2, f2, f2, f2, f2, f2, f2, f2])
        XCTAssertEqual(Set(names(.off)), ["im2col"])
    }

    /// Both Winograd algorithms give im2col's forward and gradients on the Winograd shapes.
    func testWinogradMatchesIm2col() {
        var data = TestData(seed: 11)
        for sh in Self.shapes.suffix(8) {
            let (store, conv) = make(sh)
            let x = data.normal(sh.n * sh.c * sh.h * sh.w), r = data.normal(sh.n * sh.oc * sh.h * sh.w)
            load(store, conv.weight, data.normal(conv.weight.count)); load(store, conv.bias, data.normal(sh.oc))
            var results: [[[Float]]] = []
            for setting in [Conv2d.WinogradSetting.off, .f4x4, .f2x2] {
                let ws = Workspace(threads: 2, convolution: setting)
                let out = runForward(conv, store, x, sh, ws)
                let dx = FloatBuffer(count: x.count)
                store.zeroGrads()
                r.withUnsafeBufferPointer { rp in x.withUnsafeBufferPointer {
                    conv.backward(dOut: rp.baseAddress!, x: $0.baseAddress!, dx: dx.pointer, n: sh.n, height: sh.h, width: sh.w, store, ws)
                } }
                results.append([out, dx.array(x.count), readGrad(store, conv.weight), readGrad(store, conv.bias)])
            }
            for (i, name) in ["out", "dx", "dW", "db"].enumerated() {
                assertClose(results[1][i], results[0][i], tolerance: 1e-5, "f4x4 vs im2col \(name) \(sh)")
                assertClose(results[2][i], results[0][i], tolerance: 1e-5, "f2x2 vs im2col \(name) \(sh)")
            }
        }
    }

    /// Every shape, with one big chunk and with a column budget that forces one-image chunks
    /// (and a remainder), on one and on two threads.
    func testForwardMatchesNaiveTwin() {
        var data = TestData(seed: 7)
        for setting in Conv2d.WinogradSetting.allCases {
            for threads in [1, 2] {
                for sh in Self.shapes {
                    for budget in [1 << 22, 1] {
                        let (store, conv) = make(sh)
                        let x = data.normal(sh.n * sh.c * sh.h * sh.w)
                        let w = data.normal(conv.weight.count), b = data.normal(sh.oc)
                        load(store, conv.weight, w); load(store, conv.bias, b)
                        let fast = runForward(conv, store, x, sh, Workspace(threads: threads, convolution: setting, columnBudget: budget))
                        let naive = Naive.conv2d(x, w, b, n: sh.n, channels: sh.c, height: sh.h, width: sh.w,
                                                 outChannels: sh.oc, kernel: sh.k, stride: sh.s, padding: sh.p)
                        assertClose(fast, naive, "conv forward \(sh) budget \(budget) threads \(threads) \(setting)")
                    }
                }
            }
        }
    }

    func testGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 8)
        for setting in Conv2d.WinogradSetting.allCases {
            for threads in [1, 2] {
                for sh in Self.shapes {
                    for budget in [1 << 22, 1] {
                        let (store, conv) = make(sh)
                        let ws = Workspace(threads: threads, convolution: setting, columnBudget: budget)
                        let x = data.normal(sh.n * sh.c * sh.h * sh.w)
                        let w = data.normal(conv.weight.count), b = data.normal(sh.oc)
                        load(store, conv.weight, w); load(store, conv.bias, b)
                        let g = conv.geometry(height: sh.h, width: sh.w)
                        let r = data.normal(sh.n * sh.oc * g.outPixels)
                        let dx = FloatBuffer(count: x.count)
                        store.zeroGrads()
                        r.withUnsafeBufferPointer { rp in
                            x.withUnsafeBufferPointer {
                                conv.backward(dOut: rp.baseAddress!, x: $0.baseAddress!, dx: dx.pointer,
                                              n: sh.n, height: sh.h, width: sh.w, store, ws)
                            }
                        }
                        let rd = r.doubles, xd = x.doubles, wd = w.doubles, bd = b.doubles
                        func f(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
                            dotD(rd, Naive.conv2d(x, w, b, n: sh.n, channels: sh.c, height: sh.h, width: sh.w,
                                                  outChannels: sh.oc, kernel: sh.k, stride: sh.s, padding: sh.p))
                        }
                        let tag = "\(sh) budget \(budget) threads \(threads) \(setting)"
                        let probes = x.count > 5000 ? 12 : 96
                        // F(4x4,3x3)'s transforms have coefficients up to 8 (A) and 5 (B), which
                        // amplify Float rounding: its dx is off by up to 2.3e-4 per coordinate
                        // here. 5e-4 still fails a gradient scaled by 0.999.
                        let tolerance = setting == .f4x4 ? 5e-4 : 1e-4
                        GradCheck.check("conv dx \(tag)", analytic: dx.array(x.count), at: xd, tolerance: tolerance,
                                        maxCoordinates: probes) { f($0, wd, bd) }
                        GradCheck.check("conv dW \(tag)", analytic: readGrad(store, conv.weight), at: wd, tolerance: tolerance,
                                        maxCoordinates: probes) { f(xd, $0, bd) }
                        GradCheck.check("conv db \(tag)", analytic: readGrad(store, conv.bias), at: bd, maxCoordinates: probes) { f(xd, wd, $0) }
                    }
                }
            }
        }
    }

    /// Keeping the transformed input in the forward (training) gives the backward the same
    /// bits as transforming it again, with one chunk of images and with one image a chunk
    /// (the kept chunks then sit one image's share, pads included, apart).
    func testKeptTransformedInputGivesTheSameGradients() {
        var data = TestData(seed: 12)
        for setting in [Conv2d.WinogradSetting.f4x4, .f2x2] {
            for sh in Self.shapes.suffix(8) { for budget in [1 << 22, 1] {
                let (store, conv) = make(sh)
                let x = data.normal(sh.n * sh.c * sh.h * sh.w), r = data.normal(sh.n * sh.oc * sh.h * sh.w)
                load(store, conv.weight, data.normal(conv.weight.count)); load(store, conv.bias, data.normal(sh.oc))
                var results: [[Float]] = []
                for kept in [nil, FloatBuffer(count: 0)] {
                    let out = FloatBuffer(count: r.count), dx = FloatBuffer(count: x.count)
                    let ws = Workspace(threads: 2, convolution: setting, columnBudget: budget)
                    store.zeroGrads()
                    x.withUnsafeBufferPointer { xp in r.withUnsafeBufferPointer { rp in
                        conv.forward(xp.baseAddress!, out.pointer, n: sh.n, height: sh.h, width: sh.w, store, ws, transformedInput: kept)
                        conv.backward(dOut: rp.baseAddress!, x: xp.baseAddress!, dx: dx.pointer, n: sh.n, height: sh.h, width: sh.w,
                                      store, ws, transformedInput: kept)
                    } }
                    XCTAssertEqual(kept.map { $0.capacity > 1 } ?? true, true, "\(sh) \(setting): the forward kept V")
                    results.append(out.array(r.count) + dx.array(x.count) + readGrad(store, conv.weight) + readGrad(store, conv.bias))
                }
                XCTAssertEqual(results[0], results[1], "\(sh) \(setting) budget \(budget)")
            } }
        }
    }

    /// A frozen store transforms each convolution's weights once and keeps them: two
    /// convolutions of one store, run in turn on one workspace (so the shared transformed-weights
    /// buffer is overwritten between them), under F(4x4) and F(2x2) planes, give the unfrozen
    /// outputs bit for bit, the second time as the first.
    func testFrozenStoreKeepsEachConvolutionsTransformedWeights() {
        var data = TestData(seed: 14)
        let store = ParameterStore()
        let a = Conv2d(store, "a", inChannels: 16, outChannels: 24, kernel: 3)
        let b = Conv2d(store, "b", inChannels: 24, outChannels: 16, kernel: 3)
        store.seal()
        for slot in store.slots { load(store, slot, data.normal(slot.count)) }
        let ws = Workspace(convolution: .f4x4)
        // 8x8 planes take F(4x4), 6x6 ones F(2x2): the kept forms must not be mixed up.
        let cases: [(Conv2d, Int, Int)] = [(a, 8, 16), (b, 8, 24), (a, 6, 16), (b, 6, 24)]
        let inputs = cases.map { data.normal(3 * $0.2 * $0.1 * $0.1) }
        func outputs() -> [[Float]] {
            zip(cases, inputs).map { c, x in
                let (conv, size, _) = c
                XCTAssertNotNil(conv.winogradVariant(height: size, width: size, ws))
                let out = FloatBuffer(count: 3 * conv.outChannels * size * size)
                x.withUnsafeBufferPointer { conv.forward($0.baseAddress!, out.pointer, n: 3, height: size, width: size, store, ws) }
                return out.array(3 * conv.outChannels * size * size)
            }
        }
        let unfrozen = outputs()
        store.freeze()
        XCTAssertEqual(outputs(), unfrozen)
        XCTAssertEqual(outputs(), unfrozen)
    }

    /// While only LoRA adapters train (`trainsWeights` false, the store frozen), a convolution's
    /// backward gives the same dx bit for bit and leaves its weight gradient alone, on the
    /// F(4x4), F(2x2) and im2col paths, without keeping the transformed input in the forward.
    func testBackwardWithoutWeightGradientsGivesTheSameInputGradient() {
        for (size, channels) in [(8, 16), (6, 16), (8, 8)] {
            var data = TestData(seed: 15)
            let x = data.normal(3 * channels * size * size), r = data.normal(3 * channels * size * size)
            let weights = data.normal(channels * channels * 9), bias = data.normal(channels)
            func run(trainsWeights: Bool) -> (dx: [Float], dw: [Float], kept: Int) {
                let store = ParameterStore()
                let conv = Conv2d(store, "c", inChannels: channels, outChannels: channels, kernel: 3)
                store.seal()
                load(store, conv.weight, weights)
                load(store, conv.bias, bias)
                store.trainsWeights = trainsWeights
                if !trainsWeights { store.freeze() }
                let ws = Workspace(threads: 2, convolution: .f4x4), kept = FloatBuffer(count: 0)
                let out = FloatBuffer(count: x.count), dx = FloatBuffer(count: x.count)
                dx.zero(x.count)
                let xs = FloatBuffer(count: x.count)
                xs.pointer.update(from: x, count: x.count)
                conv.forward(xs.pointer, out.pointer, n: 3, height: size, width: size, store, ws, transformedInput: kept)
                r.withUnsafeBufferPointer {
                    conv.backward(dOut: $0.baseAddress!, x: xs.pointer, dx: dx.pointer, n: 3, height: size, width: size, store, ws,
                                  transformedInput: kept)
                }
                return (dx.array(x.count), readGrad(store, conv.weight), kept.capacity)
            }
            let full = run(trainsWeights: true), lora = run(trainsWeights: false)
            XCTAssertEqual(lora.dx, full.dx, "\(size)x\(size), \(channels) channels")
            XCTAssertTrue(lora.dw.allSatisfy { $0 == 0 } && full.dw.contains { $0 != 0 })
            XCTAssertLessThanOrEqual(lora.kept, 1, "nothing reserved for a weight gradient that is not computed")
            if channels >= 16 { XCTAssertGreaterThan(full.kept, 1000, "the Winograd path keeps V and U when training weights") }
        }
    }

    /// Backward adds: running it twice doubles the gradients (skips and accumulation rely on it).
    func testBackwardAccumulates() {
        var data = TestData(seed: 9)
        let sh = Self.shapes[0]
        let (store, conv) = make(sh)
        let ws = Workspace()
        let x = data.normal(sh.n * sh.c * sh.h * sh.w)
        load(store, conv.weight, data.normal(conv.weight.count))
        let r = data.normal(sh.n * sh.oc * sh.h * sh.w)
        let dx = FloatBuffer(count: x.count)
        store.zeroGrads()
        func run() {
            r.withUnsafeBufferPointer { rp in x.withUnsafeBufferPointer {
                conv.backward(dOut: rp.baseAddress!, x: $0.baseAddress!, dx: dx.pointer, n: sh.n, height: sh.h, width: sh.w, store, ws)
            } }
        }
        run()
        let once = (dx.array(x.count), readGrad(store, conv.weight))
        run()
        assertClose(dx.array(x.count), once.0.map { 2 * $0 }, "dx doubles")
        assertClose(readGrad(store, conv.weight), once.1.map { 2 * $0 }, "dW doubles")
    }

    private func make(_ sh: Shape) -> (ParameterStore, Conv2d) {
        let store = ParameterStore()
        let conv = Conv2d(store, "conv", inChannels: sh.c, outChannels: sh.oc, kernel: sh.k, stride: sh.s, padding: sh.p)
        store.seal()
        return (store, conv)
    }

    private func runForward(_ conv: Conv2d, _ store: ParameterStore, _ x: [Float], _ sh: Shape, _ ws: Workspace) -> [Float] {
        let g = conv.geometry(height: sh.h, width: sh.w)
        let out = FloatBuffer(count: sh.n * sh.oc * g.outPixels)
        x.withUnsafeBufferPointer { conv.forward($0.baseAddress!, out.pointer, n: sh.n, height: sh.h, width: sh.w, store, ws) }
        return out.array(sh.n * sh.oc * g.outPixels)
    }
}
