import XCTest
import DDECore

final class GroupNormTests: XCTestCase {
    /// (N, C, G, H, W): odd sizes, one pixel, one group, one channel per group, and one at the
    /// two-thread threshold (32 Ki floats). Groups of 2 elements are avoided: their output
    /// depends on x only through eps, so dx is ~1e-6 and pure rounding.
    static let shapes = [(3, 12, 4, 5, 5), (2, 12, 3, 1, 1), (1, 4, 1, 3, 7), (2, 8, 8, 2, 3), (4, 32, 8, 16, 16)]

    func testForwardMatchesNaiveAndGradientsMatchFiniteDifferences() {
        for fused in [false, true] {
            var data = TestData(seed: fused ? 21 : 22)
            for (n, c, g, h, w) in Self.shapes {
                let size = n * c * h * w
                // A mean far from 0 checks that the statistics do not cancel.
                let x = data.normal(size, scale: 2).map { $0 + 3 }
                let gamma = data.normal(c).map { 1 + 0.5 * $0 }, beta = data.normal(c, scale: 0.5)
                let r = data.normal(size)
                for threads in [1, 2] {
                    withThreads(threads) { ws in
                        check(n, c, g, h, w, fused, x, gamma, beta, r, "threads \(threads)", ws)
                    }
                }
            }
        }
    }

    private func check(_ n: Int, _ c: Int, _ g: Int, _ h: Int, _ w: Int, _ fused: Bool,
                       _ x: [Float], _ gamma: [Float], _ beta: [Float], _ r: [Float], _ note: String, _ ws: Workspace) {
        let what = "groupnorm\(fused ? "+silu" : "") (\(n),\(c),\(h),\(w)) g\(g) \(note)"
        let size = n * c * h * w
        let store = ParameterStore()
        let layer = GroupNorm(store, "norm", groups: g, channels: c)
        store.seal()
        load(store, layer.weight, gamma)
        load(store, layer.bias, beta)
        let cache = GroupNormCache()
        let mem = TestArena()
        defer { mem.free() }
        let xp = mem.copy(x), out = mem.filled(size)
        layer.forward(xp, out, n: n, h: h, w: w, cache: cache, applySiLU: fused, store, ws)
        assertClose(array(out, size), Naive.groupNorm(x, gamma: gamma, beta: beta, n: n, c: c, h: h, w: w,
                                                       groups: g, applySiLU: fused), tolerance: 2e-6, "\(what) forward")

        // Gradients start non-zero: backward must add.
        let dx = mem.filled(size, 0.25)
        store.grads.pointer.update(repeating: -0.5, count: store.count)
        layer.backward(dOut: mem.copy(r), x: xp, dx: dx, n: n, h: h, w: w, cache: cache, applySiLU: fused, store, ws)
        let rd = r.doubles, xd = x.doubles, gd = gamma.doubles, bd = beta.doubles
        func f(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
            dotD(rd, Naive.groupNorm(x, gamma: gamma, beta: beta, n: n, c: c, h: h, w: w, groups: g, applySiLU: fused))
        }
        GradCheck.check("\(what) dx", analytic: array(dx, size).map { $0 - 0.25 }, at: xd) { f($0, gd, bd) }
        GradCheck.check("\(what) dweight", analytic: readGrad(store, layer.weight).map { $0 + 0.5 }, at: gd) { f(xd, $0, bd) }
        GradCheck.check("\(what) dbias", analytic: readGrad(store, layer.bias).map { $0 + 0.5 }, at: bd) { f(xd, gd, $0) }
    }

    func testResultsDoNotDependOnTheThreadCount() {
        var data = TestData(seed: 23)
        let (n, c, g, h, w) = (6, 32, 8, 16, 16)
        let size = n * c * h * w
        let x = data.normal(size), r = data.normal(size)
        func run(_ ws: Workspace) -> [[Float]] {
            let store = ParameterStore()
            let layer = GroupNorm(store, "norm", groups: g, channels: c)
            store.seal()
            load(store, layer.weight, (0..<c).map { 1 + Float($0) / 64 })
            load(store, layer.bias, (0..<c).map { Float($0) / 32 })
            let cache = GroupNormCache(), mem = TestArena()
            defer { mem.free() }
            let xp = mem.copy(x), out = mem.filled(size), dx = mem.filled(size)
            layer.forward(xp, out, n: n, h: h, w: w, cache: cache, applySiLU: true, store, ws)
            layer.backward(dOut: mem.copy(r), x: xp, dx: dx, n: n, h: h, w: w, cache: cache, applySiLU: true, store, ws)
            return [array(out, size), array(dx, size), readGrad(store, layer.weight), readGrad(store, layer.bias)]
        }
        let one = withThreads(1, run), two = withThreads(2, run)
        for (i, name) in ["out", "dx", "dweight", "dbias"].enumerated() { assertIdentical(one[i], two[i], name) }
    }

    /// One cache through batch sizes 2, 5, 2, 5 (it grows once), fused and plain alternating;
    /// dx may be nil.
    func testCacheIsReusableAcrossCallsAndShapes() {
        let ws = Workspace()
        var data = TestData(seed: 24)
        let (c, g, h, w) = (12, 4, 5, 5)
        let store = ParameterStore()
        let layer = GroupNorm(store, "norm", groups: g, channels: c)
        store.seal()
        let gamma = data.normal(c), beta = data.normal(c)
        load(store, layer.weight, gamma)
        load(store, layer.bias, beta)
        let cache = GroupNormCache()
        for (n, fused) in [(2, true), (5, false), (2, false), (5, true)] {
            let mem = TestArena()
            defer { mem.free() }
            let size = n * c * h * w
            let x = data.normal(size), out = mem.filled(size), xp = mem.copy(x)
            layer.forward(xp, out, n: n, h: h, w: w, cache: cache, applySiLU: fused, store, ws)
            assertClose(array(out, size), Naive.groupNorm(x, gamma: gamma, beta: beta, n: n, c: c, h: h, w: w,
                                                           groups: g, applySiLU: fused), tolerance: 2e-6, "n \(n)")
            XCTAssertEqual(cache.batch, n)
            // Parameter gradients alone; dbias of the plain norm is Σ dOut per channel.
            store.zeroGrads()
            let r = data.normal(size)
            layer.backward(dOut: mem.copy(r), x: xp, dx: nil, n: n, h: h, w: w, cache: cache, applySiLU: fused, store, ws)
            if !fused {
                let expected = (0..<c).map { ch in
                    Float((0..<n).reduce(0.0) { s, i in s + r[(i * c + ch) * h * w ..< (i * c + ch + 1) * h * w].reduce(0.0) { $0 + Double($1) } })
                }
                assertClose(readGrad(store, layer.bias), expected, tolerance: 1e-5, "dbias n \(n)")
            } else {
                XCTAssertNotEqual(readGrad(store, layer.weight), [Float](repeating: 0, count: c))
            }
        }
    }

    func testInitializeIsPyTorchsAndNormalizes() {
        let ws = Workspace()
        let store = ParameterStore()
        let layer = GroupNorm(store, "norm", groups: 2, channels: 4)
        store.seal()
        store.params.pointer.update(repeating: 7, count: store.count)
        layer.initialize(store)
        XCTAssertEqual(read(store, layer.weight), [1, 1, 1, 1])
        XCTAssertEqual(read(store, layer.bias), [0, 0, 0, 0])
        XCTAssertEqual(store.slot(named: "norm.weight")?.shape, [4])
        XCTAssertEqual(store.slot(named: "norm.bias")?.shape, [4])
        // With weight 1 and bias 0 each group comes out with mean 0 and variance var/(var+eps).
        var data = TestData(seed: 25)
        let x = data.normal(2 * 4 * 9, scale: 3).map { $0 - 5 }
        let mem = TestArena()
        defer { mem.free() }
        let out = mem.filled(x.count)
        layer.forward(mem.copy(x), out, n: 2, h: 3, w: 3, cache: GroupNormCache(), store, ws)
        let y = array(out, x.count)
        for group in 0..<4 {
            let slice = y[group * 18 ..< (group + 1) * 18].map(Double.init)
            let mean = slice.reduce(0, +) / 18
            XCTAssertEqual(mean, 0, accuracy: 1e-6)
            XCTAssertEqual(slice.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 18, 1, accuracy: 1e-5)
        }
    }
}
