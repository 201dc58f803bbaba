/// What `GroupNorm.backward` needs from `GroupNorm.forward`, plus the backward's workspace.
///
/// One cache per use of a layer in the graph (the model owns them). Its buffers only grow,
/// so after the first step at a given batch size no call allocates.
public final class GroupNormCache: @unchecked Sendable {
    /// Per-(n, group) mean of x, (N, G).
    public let mean = FloatBuffer(count: 0)
    /// Per-(n, group) `1 / sqrt(var + eps)`, biased variance, (N, G).
    public let rstd = FloatBuffer(count: 0)
    /// Backward: per-(n, c) `Σ dy` and `Σ dy x̂` over H*W, (N, C, 2), reduced over n at the end
    /// so workers never write the same parameter gradient.
    let partials = FloatBuffer(count: 0)
    /// Backward, fused path: one group's `dy = dOut * silu'(y)` per worker, (workers, C/G*H*W).
    let scratch = FloatBuffer(count: 0)
    /// The forward call this cache describes, checked by backward.
    public internal(set) var batch = 0
    public internal(set) var height = 0
    public internal(set) var width = 0
    public internal(set) var appliedSiLU = false

    public init() {}
}

/// PyTorch's `nn.GroupNorm(num_groups, C, eps=1e-5, affine=True)` on NCHW, optionally fused
/// with the SiLU that diffusers always applies after it (ResnetBlock2D's `norm1`/`norm2`,
/// `conv_norm_out`).
///
/// For each image n and group g (channels `g*C/G ..< (g+1)*C/G`, all H*W positions):
/// `y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]`, biased variance;
/// with `applySiLU` the output is `silu(y)`.
///
/// Numerics: statistics by two passes (mean, then Σ(x - mean)^2, so no cancellation when
/// |mean| >> std), each summed by `Reduce` (Float lanes per 256-block, blocks in Double);
/// mean and rstd are formed in Double and stored as Float. The output is `x * scale + shift`
/// with `scale = rstd * weight[c]`, `shift = bias[c] - mean * scale`, as PyTorch's CPU kernel
/// does; backward rebuilds the same scale and shift from the stored statistics, so the fused
/// path's recomputed y is bit-identical to the forward's. Work is split over the N*G (image, group) pairs on two threads; every pair is computed
/// the same way whatever the split, so results do not depend on the thread count.
public struct GroupNorm: Sendable {
    public let groups: Int
    public let channels: Int
    public let eps: Float
    public let weight: ParameterSlot
    public let bias: ParameterSlot

    /// Below this many floats per thread a call stays on one thread.
    static let grain = 1 << 14

    public init(_ store: ParameterStore, _ name: String, groups: Int, channels: Int, eps: Float = 1e-5) {
        precondition(groups > 0 && channels % groups == 0,
                     "GroupNorm \(name): \(channels) channels do not split into \(groups) groups")
        self.groups = groups
        self.channels = channels
        self.eps = eps
        weight = store.add("\(name).weight", [channels])
        bias = store.add("\(name).bias", [channels])
    }

    /// PyTorch's init: weight 1, bias 0.
    public func initialize(_ store: ParameterStore) {
        store.parameters(weight).update(repeating: 1, count: channels)
        store.parameters(bias).update(repeating: 0, count: channels)
    }

    /// x: (N, C, H, W)  weight, bias: (C)  out: (N, C, H, W)  cache.mean, cache.rstd: (N, G)
    ///
    /// `out = groupnorm(x)`, or `silu(groupnorm(x))` with `applySiLU`. `out` must not alias `x`
    /// (backward reads x).
    public func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
                        cache: GroupNormCache, applySiLU: Bool = false, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.groupNorm, profile) }
        let groups = groups, cpg = channels / groups, hw = h * w, m = cpg * hw
        let eps = Double(eps)
        cache.batch = n; cache.height = h; cache.width = w; cache.appliedSiLU = applySiLU
        let mean = SendablePointer(cache.mean.reserve(n * groups))
        let rstd = SendablePointer(cache.rstd.reserve(n * groups))
        let gamma = SendablePointer(store.parameters(weight)), beta = SendablePointer(store.parameters(bias))
        let xs = SendablePointer(x), outs = SendablePointer(out)
        // Item (n, g) covers channels g*cpg..<(g+1)*cpg of image n: offset (n*C + g*cpg)*H*W = item*m.
        parallelChunks(n * groups, threads: ws.threads, minimumPerThread: max(1, GroupNorm.grain / max(m, 1))) { items in
            for item in items {
                let g = item % groups
                let xg = UnsafePointer(xs.pointer + item * m), og = outs.pointer + item * m
                let mu = Reduce.sum(xg, count: m) / Double(m)
                let variance = Reduce.sumOfSquaredDeviations(xg, count: m, from: Float(mu)) / Double(m)
                let muF = Float(mu), rF = Float(1 / (variance + eps).squareRoot())
                mean.pointer[item] = muF
                rstd.pointer[item] = rF
                for j in 0..<cpg {
                    let c = g * cpg + j
                    let (scale, shift) = GroupNorm.scaleShift(mean: muF, rstd: rF, weight: gamma.pointer[c], bias: beta.pointer[c])
                    if applySiLU {
                        GroupNorm.affineSiLU(xg + j * hw, og + j * hw, count: hw, scale: scale, shift: shift)
                    } else {
                        GroupNorm.affine(xg + j * hw, og + j * hw, count: hw, scale: scale, shift: shift)
                    }
                }
            }
        }
    }

    /// dOut: (N, C, H, W), gradient w.r.t. the forward's output (after SiLU when fused)
    /// x: (N, C, H, W), the forward's input  dx: (N, C, H, W) or nil  all gradients added into.
    ///
    /// With `dy` the gradient w.r.t. y (`dOut * silu'(y)` when fused, y recomputed from x and the
    /// cached statistics), x̂ = (x - mean) rstd, M = C/G*H*W and sums over the (n, g) group:
    /// `dbias[c] += Σ dy`, `dweight[c] += Σ dy x̂` (over n, h, w), and
    /// `dx += rstd (w[c] dy - Σ(w dy)/M - x̂ Σ(w dy x̂)/M)`.
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         n: Int, h: Int, w: Int, cache: GroupNormCache, applySiLU: Bool = false,
                         _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.groupNorm, profile) }
        // A hard check (it survives -Ounchecked): a larger n would read past the statistics.
        if cache.batch != n || cache.height != h || cache.width != w || cache.appliedSiLU != applySiLU {
            fatalError("GroupNorm.backward: the cache describes a different forward call")
        }
        let groups = groups, channels = channels, cpg = channels / groups, hw = h * w, m = cpg * hw
        let items = n * groups
        let workers = max(1, min(ws.threads, items, items * m / GroupNorm.grain))
        let scratch = SendablePointer(applySiLU ? cache.scratch.reserve(workers * m) : cache.scratch.pointer)
        let partials = SendablePointer(cache.partials.reserve(n * channels * 2))
        let mean = SendablePointer(cache.mean.pointer), rstd = SendablePointer(cache.rstd.pointer)
        let gamma = SendablePointer(store.parameters(weight)), beta = SendablePointer(store.parameters(bias))
        let ds = SendablePointer(dOut), xs = SendablePointer(x)
        let dxs = dx.map { SendablePointer($0) }
        let invM = 1 / Double(m)
        parallelChunks(workers, threads: ws.threads, minimumPerThread: 1) { workerRange in
            for worker in workerRange {
                let buffer = scratch.pointer + worker * m
                for item in (worker * items / workers)..<((worker + 1) * items / workers) {
                    let g = item % groups, image = item / groups
                    let mu = mean.pointer[item], rF = rstd.pointer[item], r = Double(rF)
                    let xg = UnsafePointer(xs.pointer + item * m)
                    var dy = UnsafePointer(ds.pointer + item * m)
                    if applySiLU {
                        for j in 0..<cpg {
                            let c = g * cpg + j
                            let (scale, shift) = GroupNorm.scaleShift(mean: mu, rstd: rF, weight: gamma.pointer[c],
                                                                  bias: beta.pointer[c])
                            GroupNorm.siluGradient(dy + j * hw, xg + j * hw, buffer + j * hw, count: hw,
                                                   scale: scale, shift: shift)
                        }
                        dy = UnsafePointer(buffer)
                    }
                    // Σ(w dy) and Σ(w dy x̂) over the group, from per-channel sums.
                    var sumWdy = 0.0, sumWdyXhat = 0.0
                    for j in 0..<cpg {
                        let c = g * cpg + j
                        let (s, d) = Reduce.sumAndCenteredDot(dy + j * hw, xg + j * hw, count: hw, center: mu)
                        let p = partials.pointer + (image * channels + c) * 2
                        p[0] = Float(s)
                        p[1] = Float(d * r)
                        sumWdy += Double(gamma.pointer[c]) * s
                        sumWdyXhat += Double(gamma.pointer[c]) * d * r
                    }
                    guard let dxs else { continue }
                    // dx += k1 dy + k3 (x - mean) + k2, with k1 = rstd w[c], k3 = -rstd^2 Σ(w dy x̂)/M,
                    // k2 = -rstd Σ(w dy)/M.
                    let k2 = Float(-r * sumWdy * invM), k3 = Float(-r * r * sumWdyXhat * invM)
                    let dxg = dxs.pointer + item * m
                    for j in 0..<cpg {
                        let k1 = Float(r * Double(gamma.pointer[g * cpg + j]))
                        GroupNorm.inputGradient(dy + j * hw, xg + j * hw, dxg + j * hw, count: hw,
                                                k1: k1, k2: k2, k3: k3, mean: mu)
                    }
                }
            }
        }
        // dweight, dbias: (C) += Σ_n partials, in a fixed order.
        let dGamma = store.gradient(weight), dBeta = store.gradient(bias)
        for c in 0..<channels {
            var s = 0.0, d = 0.0
            for image in 0..<n {
                s += Double(partials.pointer[(image * channels + c) * 2])
                d += Double(partials.pointer[(image * channels + c) * 2 + 1])
            }
            dBeta[c] += Float(s)
            dGamma[c] += Float(d)
        }
    }

    /// The per-channel affine map y = x * scale + shift equal to `(x - mean) rstd weight + bias`,
    /// formed in Double and rounded once.
    @inline(__always)
    static func scaleShift(mean: Float, rstd: Float, weight: Float, bias: Float) -> (scale: Float, shift: Float) {
        let scale = Double(rstd) * Double(weight)
        return (Float(scale), Float(Double(bias) - Double(mean) * scale))
    }

    // MARK: kernels over one (n, c) row of H*W floats

    /// y = x * scale + shift
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                       scale: Float, shift: Float) {
        var i = 0
        while i + 8 <= count { y.store8(x.load8(i) * scale + shift, i); i += 8 }
        while i < count { y[i] = x[i] * scale + shift; i += 1 }
    }

    /// y = silu(x * scale + shift)
    @inline(__always)
    static func affineSiLU(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                           scale: Float, shift: Float) {
        var i = 0
        while i + 8 <= count { y.store8(SiLU.value(x.load8(i) * scale + shift), i); i += 8 }
        while i < count { y[i] = SiLU.value(x[i] * scale + shift); i += 1 }
    }

    /// dy = dOut * silu'(x * scale + shift)
    @inline(__always)
    static func siluGradient(_ dOut: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
                             count: Int, scale: Float, shift: Float) {
        var i = 0
        while i + 8 <= count { dy.store8(dOut.load8(i) * SiLU.derivative(x.load8(i) * scale + shift), i); i += 8 }
        while i < count { dy[i] = dOut[i] * SiLU.derivative(x[i] * scale + shift); i += 1 }
    }

    /// dx += k1 dy + k3 (x - mean) + k2
    @inline(__always)
    static func inputGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                              count: Int, k1: Float, k2: Float, k3: Float, mean: Float) {
        var i = 0
        while i + 8 <= count {
            dx.store8(dx.load8(i) + (k1 * dy.load8(i) + (k3 * (x.load8(i) - mean) + k2)), i)
            i += 8
        }
        while i < count { dx[i] += k1 * dy[i] + (k3 * (x[i] - mean) + k2); i += 1 }
    }
}
