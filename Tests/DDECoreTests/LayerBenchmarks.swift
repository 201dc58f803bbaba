import XCTest
import Foundation
import DDECore

/// Timings of the layer kernels at the U-Net's reference sizes (batch 64, 16x16, 64-128
/// channels). Opt-in, since they prove speed, not behaviour:
/// `DDE_BENCH=1 swift test -c release --filter LayerBenchmarks`.
final class LayerBenchmarks: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["DDE_BENCH"] == "1", "set DDE_BENCH=1 to run")
    }

    /// Median wall time of `body` in milliseconds (one warm-up run, then `runs`).
    private func milliseconds(_ runs: Int = 7, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return times.sorted()[runs / 2]
    }

    private func report(_ name: String, _ body: () -> Void) {
        let one = withThreads(1) { milliseconds(7, body) }
        let two = withThreads(2) { milliseconds(7, body) }
        print(String(format: "%@ 1 thread %7.2f ms   2 threads %7.2f ms", name.padding(toLength: 44, withPad: " ", startingAt: 0), one, two))
    }

    func testLayerTimings() {
        let mem = TestArena()
        defer { mem.free() }
        var data = TestData(seed: 99)
        let (n, c, h, w) = (64, 128, 16, 16)
        let size = n * c * h * w
        let x = mem.copy(data.normal(size)), out = mem.filled(size), dOut = mem.copy(data.normal(size))
        let dx = mem.filled(size)

        // Baseline for the FastMath figure: the same SiLU through glibc's expf.
        let libm = withThreads(1) {
            milliseconds { for i in 0..<size { out[i] = x[i] / (1 + Foundation.exp(-x[i])) } }
        }
        print(String(format: "%@ 1 thread %7.2f ms", "silu forward 2M, glibc expf (baseline)".padding(toLength: 44, withPad: " ", startingAt: 0), libm))
        report("silu forward 2M") { SiLU.forward(x, out, count: size) }
        report("silu backward 2M") { SiLU.backward(dOut: dOut, x: x, dx: dx, count: size) }
        report("silu forward 2M in place") { SiLU.forward(out, out, count: size) }

        let store = ParameterStore()
        let norm = GroupNorm(store, "norm", groups: 8, channels: c)
        store.seal()
        norm.initialize(store)
        let cache = GroupNormCache()
        report("groupnorm forward (64,128,16,16) g8") { norm.forward(x, out, n: n, h: h, w: w, cache: cache, store) }
        report("groupnorm backward (64,128,16,16) g8") {
            norm.backward(dOut: dOut, x: x, dx: dx, n: n, h: h, w: w, cache: cache, store)
        }
        report("groupnorm+silu forward (64,128,16,16) g8") {
            norm.forward(x, out, n: n, h: h, w: w, cache: cache, applySiLU: true, store)
        }
        report("groupnorm+silu backward (64,128,16,16) g8") {
            norm.backward(dOut: dOut, x: x, dx: dx, n: n, h: h, w: w, cache: cache, applySiLU: true, store)
        }

        report("upsample2x forward (64,128,8,8)") { Upsample2x.forward(x, out, n: n, c: c, h: 8, w: 8) }
        report("upsample2x backward (64,128,8,8)") { Upsample2x.backward(dOut: dOut, dx: dx, n: n, c: c, h: 8, w: 8) }
        report("concat forward (64,64+64,16,16)") {
            ChannelConcat.forward(x, dOut, out, n: n, c1: 64, c2: 64, h: h, w: w)
        }
        report("concat backward (64,64+64,16,16)") {
            ChannelConcat.backward(dOut: dOut, da: dx, db: out, n: n, c1: 64, c2: 64, h: h, w: w)
        }
        report("accumulate 2M") { Elementwise.accumulate(x, into: dx, count: size) }
        let e = mem.filled(n)
        report("per-image mse forward (64,3,16,16)") { PerImageMSE.forward(pred: x, target: dOut, e, n: n, c: 3, h: h, w: w) }
        report("per-image mse backward (64,3,16,16)") {
            PerImageMSE.backward(dE: e, pred: x, target: dOut, dPred: dx, dTarget: nil, n: n, c: 3, h: h, w: w)
        }
    }
}
