/// diffusers' `UNet2DConditionModel` in the Stable Diffusion family (`UNet2DConditionConfig`):
/// `CrossAttnDownBlock2D`/`DownBlock2D`, `UNetMidBlock2DCrossAttn`, `UpBlock2D`/`CrossAttnUpBlock2D`,
/// positional time embedding, SiLU, conv down/up-sampling, no class or added embeddings:
/// `UNetCore` with a `Transformer2DModel` on `encoder_hidden_states` after every resnet of a
/// cross-attention block and between the mid block's two resnets.
///
///     emb  = linear_2(silu(linear_1(sinusoid(k))))                  (N, E), E = 4*C0
///
/// Parameters under diffusers' names (`down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight`,
/// ...). The model keeps what backward needs; `keepActivations: false` sends the resnets' inner
/// activations and everything inside the transformers but their outputs to the workspace's
/// transient buffers (`TransformerScratch`).
public final class UNet2DConditionModel: @unchecked Sendable {
    public let config: UNet2DConditionConfig
    let core: UNetCore

    /// Registers the U-Net's tensors into `store` (which the caller seals).
    public init(_ config: UNet2DConditionConfig, store: ParameterStore, workspace: Workspace) {
        precondition(config.problem == nil, "UNet2DConditionModel: \(config.problem ?? "")")
        self.config = config
        let attention = zip(config.attentionHeads, config.transformerLayersPerBlock).map { UNetCore.Shape.Attention(heads: $0, layers: $1) }
        let reversed = Array(attention.reversed())
        core = UNetCore(.init(channels: config.blockOutChannels, layersPerBlock: config.layersPerBlock,
                              groups: config.normNumGroups, eps: config.normEps, inChannels: config.inChannels,
                              outChannels: config.outChannels, sampleSize: config.sampleSize,
                              flipSinToCos: config.flipSinToCos, freqShift: config.freqShift,
                              downAttention: config.downBlockTypes.enumerated().map { $1 == .crossAttention ? attention[$0] : nil },
                              upAttention: config.upBlockTypes.enumerated().map { $1 == .crossAttention ? reversed[$0] : nil },
                              midAttention: attention.last, contextDimension: config.crossAttentionDim,
                              linearProjection: config.useLinearProjection),
                        store: store, workspace: workspace)
    }

    public var store: ParameterStore { core.store }
    public var workspace: Workspace { core.workspace }
    /// The epsilon prediction of the last `forward`: (N, C_out, S, S).
    public var prediction: FloatBuffer { core.prediction }
    /// d loss / d encoder_hidden_states after `backward`: (N, Lc, Dc).
    public var contextGradient: FloatBuffer { core.contextGradient }

    /// PyTorch's default initialisation of every layer, as diffusers leaves it.
    public func initialize(_ rng: inout RandomStream) { core.initialize(&rng) }

    /// x: (N, C_in, S, S)  steps: (N) network step k (diffusers' timestep)
    /// encoderHiddenStates: (N, Lc, cross_attention_dim)
    /// Returns the epsilon prediction (N, C_out, S, S), owned by the model (valid until the next call).
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, steps: UnsafePointer<Float>, encoderHiddenStates: UnsafePointer<Float>,
                        contextTokens lc: Int, n: Int, keepActivations: Bool = true) -> UnsafeMutablePointer<Float> {
        core.forward(x, steps: steps, cond: nil, context: encoderHiddenStates, contextTokens: lc, n: n,
                     keepActivations: keepActivations)
    }

    /// dPred: (N, C_out, S, S), the loss gradient w.r.t. the last forward's prediction. Adds every
    /// parameter gradient into the store and leaves d loss / d encoder_hidden_states in
    /// `contextGradient`.
    public func backward(_ dPred: UnsafePointer<Float>) { core.backward(dPred) }
}
