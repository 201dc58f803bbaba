// Model: the text-to-image network. `UNet2DModel` is diffusers' attention-free `UNet2DModel`
// (built from `ResnetBlock`s, shaped by `UNetConfig`, parameters under diffusers' state-dict
// names); `PromptEncoder` turns a prompt, split by the word-level `Tokenizer`, into the
// conditioning vector; `TextToImageModel` holds both in one `ParameterStore` and predicts the
// noise. For the Stable Diffusion family (issue 15): `Transformer2DModel` (group norm, projection
// in, `BasicTransformerBlock`s of self-attention, cross-attention and a GEGLU `FeedForward`,
// projection out, residual) and `CLIPTextEncoder` (token and position embeddings, causal pre-norm
// layers, final layer norm), each under diffusers' or transformers' names. Models own their
// activations in grow-only buffers. Builds on Layers, Ops, Optim, Tensor and Random.

/// diffusers' `UNet2DModel` with `DownBlock2D`/`UpBlock2D` (no attention),
/// `class_embed_type = "identity"`, positional time embedding (`flip_sin_to_cos = True`,
/// `freq_shift = 0`), SiLU, `norm_eps = 1e-5`, conv down/up-sampling (model.md): `UNetCore`
/// with resnets only, two in the mid block, and the prompt's vector added to the time embedding.
///
///     emb  = linear_2(silu(linear_1(sinusoid(k)))) + cond          (N, E), E = 4*C0
///
/// Parameters live in one `ParameterStore` under diffusers' state-dict names. The model owns
/// every activation it keeps for backward (grow-only buffers).
public final class UNet2DModel: @unchecked Sendable {
    public let config: UNetConfig
    let core: UNetCore

    /// Registers the U-Net's tensors into `store` (which the caller seals, possibly after
    /// adding more, e.g. the prompt encoder).
    public init(_ config: UNetConfig, store: ParameterStore, workspace: Workspace) {
        self.config = config
        let levels = config.blockOutChannels.count
        core = UNetCore(.init(channels: config.blockOutChannels, layersPerBlock: config.layersPerBlock,
                              groups: config.normNumGroups, eps: 1e-5, inChannels: config.inChannels,
                              outChannels: config.outChannels, sampleSize: config.sampleSize, flipSinToCos: true, freqShift: 0,
                              downAttention: Array(repeating: nil, count: levels), upAttention: Array(repeating: nil, count: levels),
                              midAttention: nil, contextDimension: 0, linearProjection: false),
                        store: store, workspace: workspace)
    }

    public var store: ParameterStore { core.store }
    public var workspace: Workspace { core.workspace }
    /// The epsilon prediction of the last `forward`: (N, 3, S, S).
    public var prediction: FloatBuffer { core.prediction }
    /// d loss / d cond after `backward`: (N, E).
    public var condGradient: FloatBuffer { core.condGradient }

    /// PyTorch's default initialisation of every layer, as diffusers leaves it.
    public func initialize(_ rng: inout RandomStream) { core.initialize(&rng) }

    /// x: (N, 3, S, S)  steps: (N) network step k = t - 1  cond: (N, E)
    /// Returns the epsilon prediction (N, 3, S, S), owned by the model (valid until the next call).
    /// `keepActivations: false` when no backward follows (a frozen reference, sampling,
    /// evaluation): the activations only the next layer reads go to the workspace's transient
    /// buffers, so such a model holds little more than the down path's skip connections.
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, steps: UnsafePointer<Float>, cond: UnsafePointer<Float>,
                        n: Int, keepActivations: Bool = true) -> UnsafeMutablePointer<Float> {
        core.forward(x, steps: steps, cond: cond, context: nil, contextTokens: 0, n: n, keepActivations: keepActivations)
    }

    /// dPred: (N, 3, S, S), the loss gradient w.r.t. the last forward's prediction.
    /// Adds every parameter gradient into the store and leaves d loss / d cond in `condGradient`.
    public func backward(_ dPred: UnsafePointer<Float>) { core.backward(dPred) }
}
