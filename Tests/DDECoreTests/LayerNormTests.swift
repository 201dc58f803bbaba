import XCTest
import DDECore

final class LayerNormTests: XCTestCase {
    func testForwardMatchesNaiveAndGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 21)
        for (rows, d, threads) in [(5, 12, 1), (3, 40, 2), (700, 9, 2)] {
            let ws = Workspace(threads: threads)
            let store = ParameterStore()
            let layer = LayerNorm(store, "ln", dimension: d)
            store.seal()
            // An offset mean checks the two-pass variance; weights away from 1 check the affine part.
            let x = data.normal(rows * d).map { $0 * 2 + 3 }, w = data.normal(d), b = data.normal(d)
            load(store, layer.weight, w)
            load(store, layer.bias, b)
            let mem = TestArena()
            defer { mem.free() }
            let xp = mem.copy(x), out = mem.filled(rows * d), cache = LayerNormCache()
            layer.forward(xp, out, rows: rows, cache: cache, store, ws)
            assertClose(array(out, rows * d), Naive.layerNorm(x, gamma: w, beta: b, rows: rows, dimension: d), "layer norm forward")

            let r = data.normal(rows * d)
            let dx = mem.filled(rows * d, 0.5)
            store.zeroGrads()
            layer.backward(dOut: mem.copy(r), x: xp, dx: dx, rows: rows, cache: cache, store, ws)
            let rd = r.doubles, xd = x.doubles, wd = w.doubles, bd = b.doubles
            GradCheck.check("layer norm dx", analytic: array(dx, rows * d).map { $0 - 0.5 }, at: xd) {
                dotD(rd, Naive.layerNorm($0, gamma: wd, beta: bd, rows: rows, dimension: d))
            }
            GradCheck.check("layer norm dweight", analytic: readGrad(store, layer.weight), at: wd) {
                dotD(rd, Naive.layerNorm(xd, gamma: $0, beta: bd, rows: rows, dimension: d))
            }
            GradCheck.check("layer norm dbias", analytic: readGrad(store, layer.bias), at: bd) {
                dotD(rd, Naive.layerNorm(xd, gamma: wd, beta: $0, rows: rows, dimension: d))
            }
        }
    }

    func testResultsDoNotDependOnTheThreadCount() {
        var data = TestData(seed: 22)
        let rows = 2000, d = 24
        let x = data.normal(rows * d), r = data.normal(rows * d)
        var outputs: [[Float]] = [], gradients: [[Float]] = []
        for threads in [1, 2] {
            let ws = Workspace(threads: threads), store = ParameterStore()
            let layer = LayerNorm(store, "ln", dimension: d)
            store.seal()
            layer.initialize(store)
            let mem = TestArena()
            defer { mem.free() }
            let out = mem.filled(rows * d), dx = mem.filled(rows * d), cache = LayerNormCache()
            layer.forward(mem.copy(x), out, rows: rows, cache: cache, store, ws)
            layer.backward(dOut: mem.copy(r), x: mem.copy(x), dx: dx, rows: rows, cache: cache, store, ws)
            outputs.append(array(out, rows * d) + array(dx, rows * d))
            gradients.append(readGrad(store, layer.weight) + readGrad(store, layer.bias))
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertEqual(gradients[0], gradients[1])
    }
}
