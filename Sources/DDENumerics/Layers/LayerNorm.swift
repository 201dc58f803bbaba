/// What `LayerNorm.backward` needs from `LayerNorm.forward`: per row, the mean and
/// `1 / sqrt(var + eps)`. One cache per use of a layer in the graph; its buffers only grow.
public final class LayerNormCache: @unchecked Sendable {
    /// (R)
    public let mean = FloatBuffer(count: 0)
    /// (R)
    public let rstd = FloatBuffer(count: 0)
    /// The rows of the forward call this cache describes, checked by backward.
    public internal(set) var rows = 0

    public init() {}
}

/// PyTorch's `nn.LayerNorm(D, eps, elementwise_affine=True)` over the last dimension of a
/// row-major `(R, D)` tensor: `y = (x - mean) / sqrt(var + eps) * weight + bias`, biased
/// variance. diffusers' `BasicTransformerBlock` uses it with eps 1e-5 (`norm1`..`norm3`), as does
/// CLIP's text encoder (`layer_norm1`, `layer_norm2`, `final_layer_norm`).
///
/// Numerics: two passes per row (mean, then Σ(x - mean)^2), summed by `Reduce` (bounded error,
/// the same order whatever the thread count); mean and rstd formed in Double, stored as Float.
/// Rows split over the workspace's threads; the parameter gradients are summed over rows in a
/// fixed order afterwards, so results do not depend on the thread count.
public struct LayerNorm: Sendable {
    public let dimension: Int
    public let eps: Float
    public let weight: ParameterSlot
    public let bias: ParameterSlot

    public init(_ store: ParameterStore, _ name: String, dimension: Int, eps: Float = 1e-5) {
        self.dimension = dimension
        self.eps = eps
        weight = store.add("\(name).weight", [dimension])
        bias = store.add("\(name).bias", [dimension])
    }

    /// PyTorch's init: weight 1, bias 0.
    public func initialize(_ store: ParameterStore) {
        store.parameters(weight).update(repeating: 1, count: dimension)
        store.parameters(bias).update(repeating: 0, count: dimension)
    }

    /// x: (R, D)  weight, bias: (D)  out: (R, D)  cache.mean, cache.rstd: (R)
    /// `out` may not alias `x` (backward reads x).
    public func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int,
                        cache: LayerNormCache, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.layerNorm, profile) }
        let d = dimension, eps = Double(eps)
        cache.rows = rows
        let mean = SendablePointer(cache.mean.reserve(rows)), rstd = SendablePointer(cache.rstd.reserve(rows))
        let gamma = SendablePointer(store.parameters(weight)), beta = SendablePointer(store.parameters(bias))
        let xs = SendablePointer(x), outs = SendablePointer(out)
        parallelChunks(rows, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(d, 1))) { range in
            let g = gamma.pointer, b = beta.pointer
            for r in range {
                let row = UnsafePointer(xs.pointer + r * d), y = outs.pointer + r * d
                let m = Reduce.sum(row, count: d) / Double(d)
                let variance = Reduce.sumOfSquaredDeviations(row, count: d, from: Float(m)) / Double(d)
                let s = Float(1 / (variance + eps).squareRoot()), mf = Float(m)
                mean.pointer[r] = mf
                rstd.pointer[r] = s
                var i = 0
                while i + 8 <= d {
                    y.store8((row.load8(i) - mf) * s * g.load8(i) + b.load8(i), i)
                    i += 8
                }
                while i < d { y[i] = (row[i] - mf) * s * g[i] + b[i]; i += 1 }
            }
        }
    }

    /// dOut: (R, D)  x: the forward's input  dx: (R, D), added into (nil: not needed).
    /// Parameter gradients are added into the store.
    ///
    ///     x̂ = (x - mean) rstd,  g = dOut * weight
    ///     dx += rstd (g - mean(g) - x̂ mean(g x̂))
    ///     dweight += Σ_rows dOut x̂,  dbias += Σ_rows dOut
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         rows: Int, cache: LayerNormCache, _ store: ParameterStore, _ ws: Workspace) {
        precondition(cache.rows == rows, "LayerNorm.backward: the cache holds \(cache.rows) rows, not \(rows)")
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.layerNorm, profile) }
        let d = dimension
        let mean = SendablePointer(cache.mean.pointer), rstd = SendablePointer(cache.rstd.pointer)
        let gamma = SendablePointer(store.parameters(weight))
        let xs = SendablePointer(x), dOuts = SendablePointer(dOut)
        if let dx {
            let dxs = SendablePointer(dx)
            parallelChunks(rows, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(d, 1))) { range in
                let w = gamma.pointer
                for r in range {
                    let row = xs.pointer + r * d, dy = dOuts.pointer + r * d, out = dxs.pointer + r * d
                    let m = mean.pointer[r], s = rstd.pointer[r]
                    var sumG = 0.0, sumGX = 0.0
                    for i in 0..<d {
                        let g = Double(dy[i] * w[i]), xh = Double((row[i] - m) * s)
                        sumG += g
                        sumGX += g * xh
                    }
                    let meanG = Float(sumG / Double(d)), meanGX = Float(sumGX / Double(d))
                    for i in 0..<d {
                        let xh = (row[i] - m) * s
                        out[i] += s * (dy[i] * w[i] - meanG - xh * meanGX)
                    }
                }
            }
        }
        // Parameter gradients: rows in order, so the sums do not depend on the thread count.
        let dw = store.gradient(weight), db = store.gradient(bias)
        for r in 0..<rows {
            let row = x + r * d, dy = dOut + r * d
            let m = mean.pointer[r], s = rstd.pointer[r]
            var i = 0
            while i + 8 <= d {
                let g = dy.load8(i)
                dw.store8(dw.load8(i) + g * ((row.load8(i) - m) * s), i)
                db.store8(db.load8(i) + g, i)
                i += 8
            }
            while i < d {
                dw[i] += dy[i] * ((row[i] - m) * s)
                db[i] += dy[i]
                i += 1
            }
        }
    }
}
