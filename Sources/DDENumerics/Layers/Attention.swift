/// diffusers' `Attention` (and transformers' `CLIPAttention`): query, key and value projections,
/// multi-head scaled dot-product attention, and the output projection.
///
///     q = x to_q   k = c to_k   v = c to_v        x: (B, Lq, Dq)  c: (B, Lk, Dc), c = x for self-attention
///     out = attention(q, k, v) to_out             (B, Lq, Dq)
///
/// Tensor names: diffusers' `to_q`, `to_k`, `to_v` (no bias in SD's transformer blocks,
/// `attention_bias = False`) and `to_out.0` (with bias); CLIP's `q_proj`, `k_proj`, `v_proj`,
/// `out_proj` (all with bias). The layer owns the projections' outputs, kept for backward.
public final class Attention: @unchecked Sendable {
    /// The four projections' names under the layer's prefix, and whether q, k, v have a bias.
    public struct Naming: Sendable {
        public let query: String, key: String, value: String, output: String
        public let projectionBias: Bool

        /// diffusers' `Attention` in SD's `BasicTransformerBlock`.
        public static let diffusers = Naming(query: "to_q", key: "to_k", value: "to_v", output: "to_out.0",
                                             projectionBias: false)
        /// transformers' `CLIPAttention`.
        public static let clip = Naming(query: "q_proj", key: "k_proj", value: "v_proj", output: "out_proj",
                                        projectionBias: true)
    }

    public let queryDimension: Int
    public let contextDimension: Int
    public let toQ: Linear
    public let toK: Linear
    public let toV: Linear
    public let toOut: Linear
    public let core: ScaledDotProductAttention

    let q = FloatBuffer(count: 0)          // (B, Lq, H*Dh)
    let k = FloatBuffer(count: 0)          // (B, Lk, H*Dh)
    let v = FloatBuffer(count: 0)          // (B, Lk, H*Dh)
    let attended = FloatBuffer(count: 0)   // attention(q, k, v): (B, Lq, H*Dh)
    let cache = AttentionCache()
    var shape = (batch: 0, queries: 0, keys: 0)
    /// Whether the last forward kept q, k, v and the attended values for backward.
    var kept = false

    /// `contextDimension` nil: self-attention (keys and values from the query input).
    public init(_ store: ParameterStore, _ name: String, queryDimension: Int, contextDimension: Int? = nil,
                heads: Int, headDimension: Int, causal: Bool = false, naming: Naming = .diffusers) {
        let inner = heads * headDimension, context = contextDimension ?? queryDimension
        self.queryDimension = queryDimension
        self.contextDimension = context
        toQ = Linear(store, "\(name).\(naming.query)", inFeatures: queryDimension, outFeatures: inner, bias: naming.projectionBias)
        toK = Linear(store, "\(name).\(naming.key)", inFeatures: context, outFeatures: inner, bias: naming.projectionBias)
        toV = Linear(store, "\(name).\(naming.value)", inFeatures: context, outFeatures: inner, bias: naming.projectionBias)
        toOut = Linear(store, "\(name).\(naming.output)", inFeatures: inner, outFeatures: queryDimension)
        core = ScaledDotProductAttention(heads: heads, headDimension: headDimension, causal: causal)
    }

    /// PyTorch's default init of the four linear layers, as diffusers leaves it.
    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        for layer in [toQ, toK, toV, toOut] { layer.initialize(store, &rng) }
    }

    /// x: (B, Lq, Dq)  context: (B, Lk, Dc), nil = x  out: (B, Lq, Dq), written
    /// `keepActivations: false` (no backward follows): q, k, v and the attended values go to the
    /// workspace's `TransformerScratch`.
    public func forward(_ x: UnsafePointer<Float>, context: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                        batch: Int, queries lq: Int, keys: Int? = nil, _ store: ParameterStore, _ ws: Workspace,
                        keepActivations: Bool = true) {
        let lk = context == nil ? lq : (keys ?? lq), inner = core.width, c = context ?? x
        shape = (batch, lq, lk)
        kept = keepActivations
        let scratch = keepActivations ? nil : ws.transformerScratch
        let qp = (scratch?.q ?? q).reserve(batch * lq * inner), kp = (scratch?.k ?? k).reserve(batch * lk * inner)
        let vp = (scratch?.v ?? v).reserve(batch * lk * inner)
        toQ.forward(x, qp, n: batch * lq, store, ws)
        toK.forward(c, kp, n: batch * lk, store, ws)
        toV.forward(c, vp, n: batch * lk, store, ws)
        let a = (scratch?.attended ?? attended).reserve(batch * lq * inner)
        core.forward(q: qp, k: kp, v: vp, a, batch: batch, queries: lq, keys: lk, cache: cache, ws)
        toOut.forward(a, out, n: batch * lq, store, ws)
    }

    /// dOut: (B, Lq, Dq)  x, context: the forward's inputs  dx: (B, Lq, Dq), added into
    /// dContext: (B, Lk, Dc), added into (nil: not needed; for self-attention pass nil and the
    /// key and value gradients go into dx). Parameter gradients are added into the store.
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, context: UnsafePointer<Float>?,
                         dx: UnsafeMutablePointer<Float>?, dContext: UnsafeMutablePointer<Float>?,
                         _ store: ParameterStore, _ ws: Workspace) {
        precondition(kept, "Attention.backward: the last forward kept no activations (keepActivations: false)")
        let (batch, lq, lk) = shape, inner = core.width
        let c = context ?? x, dc = context == nil ? dx : dContext
        let scratch = ws.attentionProjectionGradients
        let dA = scratch.0.reserve(batch * lq * inner)
        dA.update(repeating: 0, count: batch * lq * inner)
        toOut.backward(dOut: dOut, x: attended.pointer, dx: dA, n: batch * lq, store, ws)
        let dq = scratch.1.reserve(batch * lq * inner), dk = scratch.2.reserve(batch * lk * inner)
        let dv = scratch.3.reserve(batch * lk * inner)
        dq.update(repeating: 0, count: batch * lq * inner)
        dk.update(repeating: 0, count: batch * lk * inner)
        dv.update(repeating: 0, count: batch * lk * inner)
        core.backward(dOut: dA, q: q.pointer, k: k.pointer, v: v.pointer, dq: dq, dk: dk, dv: dv,
                      batch: batch, queries: lq, keys: lk, cache: cache, ws)
        toQ.backward(dOut: dq, x: x, dx: dx, n: batch * lq, store, ws)
        toK.backward(dOut: dk, x: c, dx: dc, n: batch * lk, store, ws)
        toV.backward(dOut: dv, x: c, dx: dc, n: batch * lk, store, ws)
    }
}
