import Foundation

/// What `ScaledDotProductAttention.backward` needs from its forward: each query row's
/// log-sum-exp of its scaled scores, (B, H, Lq). The probabilities themselves are not kept
/// (B x H x Lq x Lk floats: 134 MB for one self-attention of 64 images of 16x16 with 8 heads);
/// backward recomputes them from Q, K and this, as FlashAttention does and as PyTorch's CPU
/// `scaled_dot_product_attention` does.
public final class AttentionCache: @unchecked Sendable {
    public let logSumExp = FloatBuffer(count: 0)
    /// The forward call this cache describes, checked by backward.
    public internal(set) var batch = 0
    public internal(set) var queries = 0
    public internal(set) var keys = 0

    public init() {}
}

/// Multi-head scaled dot-product attention without the projections: PyTorch's
/// `F.scaled_dot_product_attention(q, k, v, is_causal=causal)` on heads split from the last
/// dimension, as diffusers' `AttnProcessor2_0` and transformers' CLIP attention run it.
///
///     per image b and head h (columns h*Dh ..< (h+1)*Dh of the last dimension):
///     S   = Q_bh K_bh^T / sqrt(Dh)                    (Lq, Lk); causal: S[i][j] = -inf for j > i
///     P   = softmax(S) over the keys
///     out = P V_bh                                    (Lq, Dh)
///
/// Tensors are row-major `(B, L, H*Dh)`, so a head's block is a strided sub-matrix and every
/// product is one CBLAS sgemm on it (no transposes, no head-split copies). The (image, head)
/// pairs are split over the workspace's threads; each pair writes only its own columns, so no two
/// threads write the same float and results do not depend on the thread count.
public struct ScaledDotProductAttention: Sendable {
    public let heads: Int
    public let headDimension: Int
    /// A query attends only to keys at or before its own position (CLIP's text encoder).
    public let causal: Bool

    public init(heads: Int, headDimension: Int, causal: Bool = false) {
        precondition(heads > 0 && headDimension > 0, "ScaledDotProductAttention: heads and head dimension must be positive")
        self.heads = heads
        self.headDimension = headDimension
        self.causal = causal
    }

    /// H * Dh: the width of q, k, v and out.
    public var width: Int { heads * headDimension }
    var scale: Float { 1 / Float(headDimension).squareRoot() }

    /// q: (B, Lq, H*Dh)  k, v: (B, Lk, H*Dh)  out: (B, Lq, H*Dh)  cache.logSumExp: (B, H, Lq)
    public func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        _ out: UnsafeMutablePointer<Float>, batch: Int, queries lq: Int, keys lk: Int,
                        cache: AttentionCache, _ ws: Workspace) {
        precondition(!causal || lq == lk, "ScaledDotProductAttention: causal attention needs as many queries as keys")
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.attention, profile) }
        ws.profiler.count(flops: 4 * Double(batch * heads) * Double(lq) * Double(lk) * Double(headDimension))
        cache.batch = batch; cache.queries = lq; cache.keys = lk
        let lse = SendablePointer(cache.logSumExp.reserve(batch * heads * lq))
        let qs = SendablePointer(q), ks = SendablePointer(k), vs = SendablePointer(v), outs = SendablePointer(out)
        let width = width, dh = headDimension, heads = heads, scale = scale, causal = causal
        let items = batch * heads, threads = min(ws.threads, items)
        let scores = (0..<threads).map { SendablePointer(ws.attentionScores[$0].reserve(lq * lk)) }
        parallelFor(threads) { t in
            let s = scores[t].pointer
            withUnsafeTemporaryAllocation(of: Float.self, capacity: lq) { inverseSums in
                let inverse = inverseSums.baseAddress!
                for item in stride(from: t, to: items, by: threads) {
                    let b = item / heads, h = item % heads
                    let qb = qs.pointer + b * lq * width + h * dh, kb = ks.pointer + b * lk * width + h * dh
                    let vb = vs.pointer + b * lk * width + h * dh, ob = outs.pointer + b * lq * width + h * dh
                    BLAS.sgemm(transB: true, m: lq, n: lk, k: dh, alpha: scale, a: qb, lda: width, b: kb, ldb: width,
                               c: s, ldc: lk)
                    let rowLSE = lse.pointer + item * lq
                    for i in 0..<lq {
                        (rowLSE[i], inverse[i]) = Self.exponentiateRow(s + i * lk, count: causal ? i + 1 : lk, length: lk)
                    }
                    // out = (E V) / rowsum(E): the division on the Dh outputs of a row, not its Lk weights.
                    BLAS.sgemm(m: lq, n: dh, k: lk, a: s, lda: lk, b: vb, ldb: width, c: ob, ldc: width)
                    for i in 0..<lq { Self.scaleRow(ob + i * width, count: dh, by: inverse[i]) }
                }
            }
        }
    }

    /// dOut: (B, Lq, H*Dh)  q, k, v: the forward's inputs  dq: (B, Lq, H*Dh)  dk, dv: (B, Lk, H*Dh),
    /// all three added into.
    ///
    ///     P  = exp(S - logSumExp)                         (recomputed)
    ///     dV += P^T dOut
    ///     dP = dOut V^T,  dS = P * (dP - rowsum(P * dP)) / sqrt(Dh)
    ///     dQ += dS K,     dK += dS^T Q
    public func backward(dOut: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                         v: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                         dv: UnsafeMutablePointer<Float>, batch: Int, queries lq: Int, keys lk: Int,
                         cache: AttentionCache, _ ws: Workspace) {
        precondition(cache.batch == batch && cache.queries == lq && cache.keys == lk,
                     "ScaledDotProductAttention.backward: the cache describes another call")
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.attention, profile) }
        ws.profiler.count(flops: 10 * Double(batch * heads) * Double(lq) * Double(lk) * Double(headDimension))
        let lse = SendablePointer(cache.logSumExp.pointer)
        let qs = SendablePointer(q), ks = SendablePointer(k), vs = SendablePointer(v), dos = SendablePointer(dOut)
        let dqs = SendablePointer(dq), dks = SendablePointer(dk), dvs = SendablePointer(dv)
        let width = width, dh = headDimension, heads = heads, scale = scale, causal = causal
        let items = batch * heads, threads = min(ws.threads, items)
        let scores = (0..<threads).map { SendablePointer(ws.attentionScores[$0].reserve(lq * lk)) }
        let grads = (0..<threads).map { SendablePointer(ws.attentionScoreGradients[$0].reserve(lq * lk)) }
        parallelFor(threads) { t in
            let p = scores[t].pointer, dp = grads[t].pointer
            for item in stride(from: t, to: items, by: threads) {
                let b = item / heads, h = item % heads
                let qOffset = b * lq * width + h * dh, kOffset = b * lk * width + h * dh
                BLAS.sgemm(transB: true, m: lq, n: lk, k: dh, alpha: scale, a: qs.pointer + qOffset, lda: width,
                           b: ks.pointer + kOffset, ldb: width, c: p, ldc: lk)
                let rowLSE = lse.pointer + item * lq
                for i in 0..<lq {
                    Self.probabilitiesRow(p + i * lk, count: causal ? i + 1 : lk, length: lk, logSumExp: rowLSE[i])
                }
                BLAS.sgemm(transA: true, m: lk, n: dh, k: lq, a: p, lda: lk, b: dos.pointer + qOffset, ldb: width,
                           beta: 1, c: dvs.pointer + kOffset, ldc: width)
                BLAS.sgemm(transB: true, m: lq, n: lk, k: dh, a: dos.pointer + qOffset, lda: width,
                           b: vs.pointer + kOffset, ldb: width, c: dp, ldc: lk)
                for i in 0..<lq {
                    Self.softmaxBackwardRow(p + i * lk, dp + i * lk, count: causal ? i + 1 : lk, length: lk, scale: scale)
                }
                BLAS.sgemm(m: lq, n: dh, k: lk, a: dp, lda: lk, b: ks.pointer + kOffset, ldb: width,
                           beta: 1, c: dqs.pointer + qOffset, ldc: width)
                BLAS.sgemm(transA: true, m: lk, n: dh, k: lq, a: dp, lda: lk, b: qs.pointer + qOffset, ldb: width,
                           beta: 1, c: dks.pointer + kOffset, ldc: width)
            }
        }
    }

    /// `exp(s - max)` of the first `count` entries of a row of `length`, in place (the softmax
    /// before its division); the rest (masked keys) set to 0. Returns the log-sum-exp of the
    /// first `count` and 1 / the sum of the exponentials.
    @inline(__always)
    static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, count: Int, length: Int) -> (logSumExp: Float, inverseSum: Float) {
        var top8 = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count { top8 = pointwiseMax(top8, row.load8(i)); i += 8 }
        var top = top8.max()
        while i < count { top = max(top, row[i]); i += 1 }
        var sum8 = SIMD8<Float>()
        i = 0
        while i + 8 <= count {
            let e = FastMath.exp(row.load8(i) - top)
            row.store8(e, i)
            sum8 += e
            i += 8
        }
        var sum = Double(sum8.sum())
        while i < count { let e = FastMath.exp(row[i] - top); row[i] = e; sum += Double(e); i += 1 }
        if count < length { (row + count).update(repeating: 0, count: length - count) }
        return (top + Float(Foundation.log(sum)), Float(1 / sum))
    }

    /// row[0..<count] *= factor
    @inline(__always)
    static func scaleRow(_ row: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        while i + 8 <= count { row.store8(row.load8(i) * factor, i); i += 8 }
        while i < count { row[i] *= factor; i += 1 }
    }

    /// The probabilities `exp(s - logSumExp)` of a row of scaled scores, in place; masked keys 0.
    @inline(__always)
    static func probabilitiesRow(_ row: UnsafeMutablePointer<Float>, count: Int, length: Int, logSumExp: Float) {
        var i = 0
        while i + 8 <= count { row.store8(FastMath.exp(row.load8(i) - logSumExp), i); i += 8 }
        while i < count { row[i] = FastMath.exp(row[i] - logSumExp); i += 1 }
        if count < length { (row + count).update(repeating: 0, count: length - count) }
    }

    /// dS = P * (dP - Σ P dP) * scale, into `dp` (masked keys 0).
    @inline(__always)
    static func softmaxBackwardRow(_ p: UnsafeMutablePointer<Float>, _ dp: UnsafeMutablePointer<Float>,
                                   count: Int, length: Int, scale: Float) {
        var dot8 = SIMD8<Float>()
        var i = 0
        while i + 8 <= count { dot8 += p.load8(i) * dp.load8(i); i += 8 }
        var dot = Double(dot8.sum())
        while i < count { dot += Double(p[i] * dp[i]); i += 1 }
        let d = Float(dot)
        i = 0
        while i + 8 <= count { dp.store8(p.load8(i) * (dp.load8(i) - d) * scale, i); i += 8 }
        while i < count { dp[i] = p[i] * (dp[i] - d) * scale; i += 1 }
        if count < length { (dp + count).update(repeating: 0, count: length - count) }
    }
}
