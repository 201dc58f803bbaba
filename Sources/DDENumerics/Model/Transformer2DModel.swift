/// diffusers' `Transformer2DModel` on continuous input, as the cross-attention blocks of
/// `UNet2DConditionModel` build it (SD 1.x/2.x, SDXL):
///
///     h   = norm(x)                               GroupNorm(groups, C, eps 1e-6)
///     t   = proj_in(h) as tokens                  (B, H*W, inner), inner = heads * head_dim
///     t   = transformer_blocks[i](t, context)     `BasicTransformerBlock`s, in order
///     out = proj_out(t) as an image + x           (B, C, H, W)
///
/// `proj_in`/`proj_out` are 1x1 convolutions, or linear layers with `use_linear_projection`
/// (`TokenProjection`). Tensor names under the block's prefix: `norm`, `proj_in`,
/// `transformer_blocks.<i>.…`, `proj_out`.
public final class Transformer2DModel: @unchecked Sendable {
    public let channels: Int
    public let inner: Int
    public let norm: GroupNorm
    public let projIn: TokenProjection
    public let blocks: [BasicTransformerBlock]
    public let projOut: TokenProjection

    let normalised = FloatBuffer(count: 0)   // (B, C, H, W)
    let tokens = FloatBuffer(count: 0)       // proj_in's output (B, H*W, inner)
    public let output = FloatBuffer(count: 0)
    let normCache = GroupNormCache()
    var shape = (batch: 0, height: 0, width: 0, contextTokens: 0)
    var kept = false

    public init(_ store: ParameterStore, _ name: String, channels: Int, heads: Int, headDimension: Int, layers: Int,
                contextDimension: Int, groups: Int, linearProjection: Bool) {
        self.channels = channels
        inner = heads * headDimension
        norm = GroupNorm(store, "\(name).norm", groups: groups, channels: channels, eps: 1e-6)
        projIn = TokenProjection(store, "\(name).proj_in", inFeatures: channels, outFeatures: inner,
                                 asConvolution: !linearProjection)
        blocks = (0..<layers).map { [inner] i in
            BasicTransformerBlock(store, "\(name).transformer_blocks.\(i)", dimension: inner, heads: heads,
                                  headDimension: headDimension, contextDimension: contextDimension)
        }
        projOut = TokenProjection(store, "\(name).proj_out", inFeatures: inner, outFeatures: channels,
                                  asConvolution: !linearProjection)
    }

    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        norm.initialize(store)
        projIn.initialize(store, &rng)
        for block in blocks { block.initialize(store, &rng) }
        projOut.initialize(store, &rng)
    }

    /// x: (B, C, H, W)  context: (B, Lc, Dc)  returns (B, C, H, W), owned by the model.
    /// `keepActivations: false` (no backward follows): everything but the output goes to the
    /// workspace's `TransformerScratch`, shared by every transformer of the network.
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, context: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        contextTokens lc: Int, _ store: ParameterStore, _ ws: Workspace,
                        keepActivations keep: Bool = true) -> UnsafeMutablePointer<Float> {
        shape = (batch, height, width, lc)
        kept = keep
        let scratch = keep ? nil : ws.transformerScratch
        let p = height * width, count = batch * channels * p
        // proj_in's input serves only its weight gradient: not kept while only LoRA adapters train.
        let h = (store.trainsWeights ? scratch?.normalisedInput ?? normalised : ws.transformerScratch.normalisedInput).reserve(count)
        norm.forward(x, h, n: batch, h: height, w: width, cache: normCache, store, ws)
        var t = (scratch?.tokens ?? tokens).reserve(batch * p * inner)
        projIn.intoTokens(h, t, batch: batch, pixels: p, store, ws)
        for (i, block) in blocks.enumerated() {
            let into = scratch.map { i % 2 == 0 ? $0.blockOutputs.0 : $0.blockOutputs.1 }
            t = block.forward(t, context: context, batch: batch, tokens: p, contextTokens: lc, store, ws,
                              keepActivations: keep, into: into)
        }
        let out = output.reserve(count)
        projOut.fromTokens(t, out, batch: batch, pixels: p, store, ws)
        Elementwise.accumulate(x, into: out, count: count, ws)
        return out
    }

    /// dOut: (B, C, H, W)  x, context: the forward's inputs  dx: (B, C, H, W), added into
    /// dContext: (B, Lc, Dc), added into
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, context: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, dContext: UnsafeMutablePointer<Float>,
                         _ store: ParameterStore, _ ws: Workspace) {
        precondition(kept, "Transformer2DModel.backward: the last forward kept no activations (keepActivations: false)")
        let (batch, height, width, _) = shape, p = height * width, count = batch * channels * p
        let tokenCount = batch * p * inner
        Elementwise.accumulate(dOut, into: dx, count: count, ws)
        var dTokens = ws.transformerTokenGradients.0.reserve(tokenCount)
        var dPrevious = ws.transformerTokenGradients.1.reserve(tokenCount)
        dTokens.update(repeating: 0, count: tokenCount)
        let last = blocks.last?.output.pointer ?? tokens.pointer
        projOut.fromTokensBackward(dOut: dOut, x: last, dx: dTokens, batch: batch, pixels: p, store, ws)
        for i in stride(from: blocks.count - 1, through: 0, by: -1) {
            let input = i == 0 ? tokens.pointer : blocks[i - 1].output.pointer
            dPrevious.update(repeating: 0, count: tokenCount)
            blocks[i].backward(dOut: dTokens, x: input, context: context, dx: dPrevious, dContext: dContext, store, ws)
            swap(&dTokens, &dPrevious)
        }
        let dNormalised = ws.transformerInputGradient.reserve(count)
        dNormalised.update(repeating: 0, count: count)
        let projInInput = store.trainsWeights ? normalised : ws.transformerScratch.normalisedInput  // (not read without weights)
        projIn.intoTokensBackward(dOut: dTokens, x: projInInput.pointer, dx: dNormalised, batch: batch, pixels: p, store, ws)
        norm.backward(dOut: dNormalised, x: x, dx: dx, n: batch, h: height, w: width, cache: normCache, store, ws)
    }
}
