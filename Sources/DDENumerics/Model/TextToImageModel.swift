/// The whole text-to-image model: the U-Net and the prompt encoder, with their parameters in
/// one store (U-Net tensors first, under diffusers' names, then `prompt_encoder.*`).
public final class TextToImageModel: @unchecked Sendable {
    public let unet: UNet2DModel
    public let encoder: PromptEncoder
    public let store: ParameterStore
    let cond = FloatBuffer(count: 0)

    /// `workspace`: the context both networks compute in (threads, convolution algorithm,
    /// profiler, scratch memory).
    public init(_ config: UNetConfig, tokenizer: Tokenizer, encoderDimension: Int, workspace: Workspace) {
        store = ParameterStore()
        unet = UNet2DModel(config, store: store, workspace: workspace)
        encoder = PromptEncoder(store, tokenizer: tokenizer, dimension: encoderDimension,
                                outputDimension: config.embeddingDimension)
        store.seal()
    }

    public var config: UNetConfig { unet.config }
    public var workspace: Workspace { unet.workspace }
    /// Floats per image: 3 * S * S.
    public var imageSize: Int { config.inChannels * config.sampleSize * config.sampleSize }

    public func initialize(_ rng: inout RandomStream) {
        unet.initialize(&rng)
        encoder.initialize(&rng)
    }

    /// xt: (N, 3, S, S)  steps: (N) network steps k  prompts: N ("" = unconditional)
    /// Returns the epsilon prediction (N, 3, S, S), owned by the U-Net. `keepActivations:
    /// false` when no backward follows (see `UNet2DModel.forward`).
    @discardableResult
    public func predictNoise(_ xt: UnsafePointer<Float>, steps: UnsafePointer<Float>, prompts: [String],
                             keepActivations: Bool = true) -> UnsafeMutablePointer<Float> {
        let n = prompts.count
        let c = cond.reserve(n * config.embeddingDimension)
        encoder.forward(prompts, c, workspace)
        return unet.forward(xt, steps: steps, cond: c, n: n, keepActivations: keepActivations)
    }

    /// Back-propagates d loss / d eps of the last `predictNoise` into both networks' gradients.
    public func backward(_ dEps: UnsafePointer<Float>) {
        unet.backward(dEps)
        encoder.backward(unet.condGradient.pointer, workspace)
    }
}
