import DDECore
import Foundation
Threads.configure(1)
func rate(_ name: String, _ m: Int, _ n: Int, _ k: Int, transA: Bool, transB: Bool) {
    let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
    var rng = RandomStream(seed: 1)
    rng.fillNormal(a.pointer, count: m * k); rng.fillNormal(b.pointer, count: k * n)
    let t = Stopwatch.time(warmup: 2, repeats: 7) {
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a.pointer, lda: transA ? m : k, b: b.pointer, ldb: transB ? k : n, c: c.pointer, ldc: n)
    }
    let med = TimingSummary(t).median
    print(name, m, n, k, String(format: "%.2f ms %.1f GF/s", med * 1000, 2 * Double(m * n * k) / med / 1e9))
}
for (oc, hw, k) in [(32, 4096, 288), (64, 4096, 576), (64, 8192, 576), (128, 2048, 1152), (32, 8192, 576)] {
    rate("W*col      ", oc, hw, k, transA: false, transB: false)
    rate("col^T*W^T  ", hw, oc, k, transA: true, transB: true)
}
