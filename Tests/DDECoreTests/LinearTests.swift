import XCTest
import DDECore

final class LinearTests: XCTestCase {
    func testForwardMatchesNaiveAndGradientsMatchFiniteDifferences() {
        let ws = Workspace()
        var data = TestData(seed: 1)
        for (n, fin, fout) in [(3, 5, 7), (1, 1, 1), (8, 33, 17)] {
            let store = ParameterStore()
            let layer = Linear(store, "fc", inFeatures: fin, outFeatures: fout)
            store.seal()
            let w = data.normal(fin * fout), b = data.normal(fout), x = data.normal(n * fin)
            load(store, layer.weight, w)
            load(store, layer.bias!, b)
            let out = FloatBuffer(count: n * fout)
            x.withUnsafeBufferPointer { layer.forward($0.baseAddress!, out.pointer, n: n, store, ws) }
            assertClose(out.array(n * fout), Naive.linear(x, w, b, n: n, inFeatures: fin, outFeatures: fout), "linear forward")

            let r = data.normal(n * fout)
            let dx = FloatBuffer(count: n * fin)
            store.zeroGrads()
            r.withUnsafeBufferPointer { rp in
                x.withUnsafeBufferPointer { layer.backward(dOut: rp.baseAddress!, x: $0.baseAddress!, dx: dx.pointer, n: n, store, ws) }
            }
            let rd = r.doubles, xd = x.doubles, wd = w.doubles, bd = b.doubles
            GradCheck.check("linear dx", analytic: dx.array(n * fin), at: xd) {
                dotD(rd, Naive.linear($0, wd, bd, n: n, inFeatures: fin, outFeatures: fout))
            }
            GradCheck.check("linear dW", analytic: readGrad(store, layer.weight), at: wd) {
                dotD(rd, Naive.linear(xd, $0, bd, n: n, inFeatures: fin, outFeatures: fout))
            }
            GradCheck.check("linear db", analytic: readGrad(store, layer.bias!), at: bd) {
                dotD(rd, Naive.linear(xd, wd, $0, n: n, inFeatures: fin, outFeatures: fout))
            }
        }
    }
}

func dotD(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}
