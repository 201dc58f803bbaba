/// The per-image mean squared error, one number per image:
/// `e[n] = mean over C*H*W of (pred - target)^2` — the epsilon-prediction loss of each
/// sample before the objective (DDE, uniform, discounted, SFT) weights and averages them.
///
/// Sums go through `Reduce` (Float lanes per 1024-block, blocks in Double). Split over images
/// on two threads above 16 Ki floats per thread.
public enum PerImageMSE {
    /// pred, target: (N, C, H, W)  e: (N), overwritten
    public static func forward(pred: UnsafePointer<Float>, target: UnsafePointer<Float>, _ e: UnsafeMutablePointer<Float>,
                               n: Int, c: Int, h: Int, w: Int, _ ws: Workspace) {
        let size = c * h * w
        let p = SendablePointer(pred), t = SendablePointer(target), es = SendablePointer(e)
        parallelChunks(n, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(size, 1))) { images in
            for i in images {
                let s = Reduce.sumOfSquaredDifferences(p.pointer + i * size, t.pointer + i * size, count: size)
                es.pointer[i] = Float(s / Double(size))
            }
        }
    }

    /// dE: (N)  pred, target: (N, C, H, W)  dPred, dTarget: (N, C, H, W) or nil, added into —
    /// `dPred += 2 (pred - target) dE[n] / (C*H*W)`, `dTarget -=` the same.
    public static func backward(dE: UnsafePointer<Float>, pred: UnsafePointer<Float>, target: UnsafePointer<Float>,
                                dPred: UnsafeMutablePointer<Float>?, dTarget: UnsafeMutablePointer<Float>?,
                                n: Int, c: Int, h: Int, w: Int, _ ws: Workspace) {
        let size = c * h * w
        let de = SendablePointer(dE), p = SendablePointer(pred), t = SendablePointer(target)
        let dp = dPred.map { SendablePointer($0) }, dt = dTarget.map { SendablePointer($0) }
        parallelChunks(n, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(size, 1))) { images in
            for i in images {
                let k = 2 * de.pointer[i] / Float(size)
                let pi = p.pointer + i * size, ti = t.pointer + i * size
                if let dp { axpyDifference(k, pi, ti, dp.pointer + i * size, count: size) }
                if let dt { axpyDifference(-k, pi, ti, dt.pointer + i * size, count: size) }
            }
        }
    }

    /// y += k (a - b) on one thread.
    @inline(__always)
    static func axpyDifference(_ k: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                               _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { y.store8(y.load8(i) + k * (a.load8(i) - b.load8(i)), i); i += 8 }
        while i < count { y[i] += k * (a[i] - b[i]); i += 1 }
    }
}
