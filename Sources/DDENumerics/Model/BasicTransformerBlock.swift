/// diffusers' `BasicTransformerBlock` as SD's U-Net builds it (`norm_type = "layer_norm"`,
/// `activation_fn = "geglu"`, no dropout, `only_cross_attention = False`, no attention bias):
///
///     h1  = x  + attn1(norm1(x))                      self-attention
///     h2  = h1 + attn2(norm2(h1), context)            cross-attention on the text encoder's states
///     out = h2 + ff(norm3(h2))
///
/// x, out: (B, L, D) tokens; context: (B, Lc, Dc). The block keeps what backward needs.
public final class BasicTransformerBlock: @unchecked Sendable {
    public let dimension: Int
    public let norm1: LayerNorm
    public let attn1: Attention
    public let norm2: LayerNorm
    public let attn2: Attention
    public let norm3: LayerNorm
    public let ff: FeedForward

    let residual1 = FloatBuffer(count: 0)     // h1, (B, L, D) each
    let residual2 = FloatBuffer(count: 0)     // h2
    public let output = FloatBuffer(count: 0)
    let cache1 = LayerNormCache(), cache2 = LayerNormCache(), cache3 = LayerNormCache()
    var shape = (batch: 0, tokens: 0, contextTokens: 0)

    public init(_ store: ParameterStore, _ name: String, dimension: Int, heads: Int, headDimension: Int,
                contextDimension: Int) {
        self.dimension = dimension
        norm1 = LayerNorm(store, "\(name).norm1", dimension: dimension)
        attn1 = Attention(store, "\(name).attn1", queryDimension: dimension, heads: heads, headDimension: headDimension)
        norm2 = LayerNorm(store, "\(name).norm2", dimension: dimension)
        attn2 = Attention(store, "\(name).attn2", queryDimension: dimension, contextDimension: contextDimension,
                          heads: heads, headDimension: headDimension)
        norm3 = LayerNorm(store, "\(name).norm3", dimension: dimension)
        ff = FeedForward(store, "\(name).ff", dimension: dimension)
    }

    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        norm1.initialize(store)
        attn1.initialize(store, &rng)
        norm2.initialize(store)
        attn2.initialize(store, &rng)
        norm3.initialize(store)
        ff.initialize(store, &rng)
    }

    /// x: (B, L, D)  context: (B, Lc, Dc)  returns (B, L, D): the block's own output, or with
    /// `keepActivations: false` `into` (the caller's; x must not be it), every other tensor in
    /// the workspace's `TransformerScratch`. The three normalised inputs are never kept: one
    /// scratch buffer serves the sub-layers, which run in turn, and backward recomputes each
    /// from its residual (the same bits: the same layer norm on the same input).
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, context: UnsafePointer<Float>, batch: Int, tokens l: Int,
                        contextTokens lc: Int, _ store: ParameterStore, _ ws: Workspace,
                        keepActivations keep: Bool = true, into: FloatBuffer? = nil) -> UnsafeMutablePointer<Float> {
        shape = (batch, l, lc)
        let count = batch * l * dimension, rows = batch * l
        let scratch = keep ? nil : ws.transformerScratch
        let n = ws.transformerScratch.normalised.reserve(count)  // each sub-layer's normalised input in turn
        let h1 = (scratch?.residuals.0 ?? residual1).reserve(count), h2 = (scratch?.residuals.1 ?? residual2).reserve(count)
        let out = ((keep ? nil : into) ?? output).reserve(count)
        norm1.forward(x, n, rows: rows, cache: cache1, store, ws)
        attn1.forward(n, context: nil, h1, batch: batch, queries: l, store, ws, keepActivations: keep)
        Elementwise.accumulate(x, into: h1, count: count, ws)
        norm2.forward(h1, n, rows: rows, cache: cache2, store, ws)
        attn2.forward(n, context: context, h2, batch: batch, queries: l, keys: lc, store, ws, keepActivations: keep)
        Elementwise.accumulate(h1, into: h2, count: count, ws)
        norm3.forward(h2, n, rows: rows, cache: cache3, store, ws)
        ff.forward(n, out, rows: rows, store, ws, keepActivations: keep)
        Elementwise.accumulate(h2, into: out, count: count, ws)
        return out
    }

    /// dOut: (B, L, D)  x, context: the forward's inputs  dx: (B, L, D), added into
    /// dContext: (B, Lc, Dc), added into. `dOut` must not be one of the workspace's transformer
    /// buffers.
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, context: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, dContext: UnsafeMutablePointer<Float>,
                         _ store: ParameterStore, _ ws: Workspace) {
        let (batch, l, _) = shape, count = batch * l * dimension, rows = batch * l
        // g: the gradient of the residual stream, from out back to x; d: of a sub-layer's input.
        let g = ws.transformerGradients.0.reserve(count), d = ws.transformerGradients.1.reserve(count)
        g.update(from: dOut, count: count)
        d.update(repeating: 0, count: count)
        let n = ws.transformerScratch.normalised.reserve(count)  // each sub-layer's input, recomputed
        norm3.forward(residual2.pointer, n, rows: rows, cache: cache3, store, ws)
        ff.backward(dOut: dOut, x: n, dx: d, store, ws)
        norm3.backward(dOut: d, x: residual2.pointer, dx: g, rows: rows, cache: cache3, store, ws)
        d.update(repeating: 0, count: count)
        norm2.forward(residual1.pointer, n, rows: rows, cache: cache2, store, ws)
        attn2.backward(dOut: g, x: n, context: context, dx: d, dContext: dContext, store, ws)
        norm2.backward(dOut: d, x: residual1.pointer, dx: g, rows: rows, cache: cache2, store, ws)
        d.update(repeating: 0, count: count)
        norm1.forward(x, n, rows: rows, cache: cache1, store, ws)
        attn1.backward(dOut: g, x: n, context: nil, dx: d, dContext: nil, store, ws)
        norm1.backward(dOut: d, x: x, dx: g, rows: rows, cache: cache1, store, ws)
        Elementwise.accumulate(g, into: dx, count: count, ws)
    }
}
