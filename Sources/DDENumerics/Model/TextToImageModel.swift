/// The whole text-to-image model: a U-Net and the encoder that turns a prompt into its
/// conditioning, with their parameters in one store (U-Net tensors first, under diffusers'
/// names, then the encoder's). Two architectures (`ModelArchitecture`):
///
///     UNet2DModel:           cond = prompt_encoder(prompt)          (E)      added to the time embedding
///     UNet2DConditionModel:  cond = text_encoder(prompt)            (L, D)   attended to (encoder_hidden_states)
///
/// The empty prompt is the unconditional input of guidance: the prompt encoder's learned null
/// embedding, or the text encoder's output for an all-padding prompt, as in Stable Diffusion.
public final class TextToImageModel: @unchecked Sendable {
    /// The two networks of each architecture.
    public enum Networks {
        case unet2D(UNet2DModel, PromptEncoder)
        case unet2DCondition(UNet2DConditionModel, CLIPTextEncoder)
    }

    public let architecture: ModelArchitecture
    public let networks: Networks
    public let tokenizer: Tokenizer
    public let store: ParameterStore
    public let workspace: Workspace
    let conditioning = FloatBuffer(count: 0)
    let tokenIDs = UnsafeMutableBufferPointerBox()

    /// `workspace`: the context both networks compute in (threads, convolution algorithm,
    /// profiler, scratch memory). A text encoder's vocabulary and length are the tokenizer's.
    public init(_ architecture: ModelArchitecture, tokenizer: Tokenizer, workspace: Workspace) {
        self.architecture = architecture
        self.tokenizer = tokenizer
        self.workspace = workspace
        store = ParameterStore()
        switch architecture {
        case .unet2D(let config, let encoderDimension):
            networks = .unet2D(UNet2DModel(config, store: store, workspace: workspace),
                               PromptEncoder(store, tokenizer: tokenizer, dimension: encoderDimension,
                                             outputDimension: config.embeddingDimension))
        case .unet2DCondition(let config, let text):
            precondition(text.vocabularySize == tokenizer.vocabularySize && text.length == tokenizer.maxTokens
                         && text.width == config.crossAttentionDim,
                         "TextToImageModel: the text encoder's vocabulary, length and width must be the tokenizer's and cross_attention_dim")
            networks = .unet2DCondition(UNet2DConditionModel(config, store: store, workspace: workspace),
                                        CLIPTextEncoder(store, text))
        }
        store.seal()
    }

    /// The attention-free model of model.md.
    public convenience init(_ config: UNetConfig, tokenizer: Tokenizer, encoderDimension: Int, workspace: Workspace) {
        self.init(.unet2D(config, encoderDimension: encoderDimension), tokenizer: tokenizer, workspace: workspace)
    }

    public var sampleSize: Int { architecture.unet.sampleSize }
    /// Floats per image: C * S * S.
    public var imageSize: Int { architecture.unet.inChannels * sampleSize * sampleSize }
    /// Floats of conditioning per prompt (`encode`'s output per row).
    public var conditioningCount: Int { architecture.conditioningCount }

    public func initialize(_ rng: inout RandomStream) {
        switch networks {
        case .unet2D(let unet, let encoder):
            unet.initialize(&rng)
            encoder.initialize(&rng)
        case .unet2DCondition(let unet, let text):
            unet.initialize(&rng)
            text.initialize(store, &rng)
        }
    }

    /// prompts: N ("" = unconditional)  out: (N, conditioningCount)
    /// The encoder keeps what its backward needs (the last call's).
    public func encode(_ prompts: [String], into out: UnsafeMutablePointer<Float>) {
        switch networks {
        case .unet2D(_, let encoder):
            encoder.forward(prompts, out, workspace)
        case .unet2DCondition(_, let text):
            let n = prompts.count, l = tokenizer.maxTokens
            let ids = tokenIDs.reserve(n * l)
            for (i, prompt) in prompts.enumerated() {
                for (j, id) in tokenizer.encode(prompt).enumerated() { ids[i * l + j] = id }
            }
            let states = text.forward(tokenIDs: ids, batch: n, store, workspace)
            out.update(from: states, count: n * conditioningCount)
        }
    }

    /// xt: (N, C, S, S)  steps: (N) network steps k  conditioning: (N, conditioningCount) from `encode`
    /// Returns the epsilon prediction (N, C, S, S), owned by the U-Net. `keepActivations: false`
    /// when no backward follows.
    @discardableResult
    public func predictNoise(_ xt: UnsafePointer<Float>, steps: UnsafePointer<Float>, conditioning: UnsafePointer<Float>,
                             n: Int, keepActivations: Bool = true) -> UnsafeMutablePointer<Float> {
        switch networks {
        case .unet2D(let unet, _):
            return unet.forward(xt, steps: steps, cond: conditioning, n: n, keepActivations: keepActivations)
        case .unet2DCondition(let unet, _):
            return unet.forward(xt, steps: steps, encoderHiddenStates: conditioning, contextTokens: tokenizer.maxTokens, n: n,
                                keepActivations: keepActivations)
        }
    }

    /// xt: (N, C, S, S)  steps: (N) network steps k  prompts: N ("" = unconditional)
    /// Returns the epsilon prediction (N, C, S, S), owned by the U-Net; `backward` follows it.
    @discardableResult
    public func predictNoise(_ xt: UnsafePointer<Float>, steps: UnsafePointer<Float>, prompts: [String],
                             keepActivations: Bool = true) -> UnsafeMutablePointer<Float> {
        let n = prompts.count
        let c = conditioning.reserve(n * conditioningCount)
        encode(prompts, into: c)
        return predictNoise(xt, steps: steps, conditioning: c, n: n, keepActivations: keepActivations)
    }

    /// Back-propagates d loss / d eps of the last `predictNoise(prompts:)` into both networks'
    /// gradients (while only LoRA adapters train, into theirs: the encoder, which has none, is
    /// then skipped).
    public func backward(_ dEps: UnsafePointer<Float>) {
        switch networks {
        case .unet2D(let unet, let encoder):
            unet.backward(dEps)
            if store.trainsWeights { encoder.backward(unet.condGradient.pointer, workspace) }
        case .unet2DCondition(let unet, let text):
            unet.backward(dEps)
            if store.trainsWeights { text.backward(unet.contextGradient.pointer, store, workspace) }
        }
    }

    // MARK: LoRA

    /// The model's LoRA adapters, if attached.
    public var lora: LoRAAdapters? { store.lora }

    /// What a fine-tune updates: the adapters when attached, else every weight.
    public var trainableStore: ParameterStore { store.lora?.store ?? store }

    /// Attaches LoRA adapters to the U-Net's linear layers whose names match `settings.targets`
    /// (A from `rng`, B zero: the model still computes its base's outputs) and freezes the base's
    /// weights (`ParameterStore.trainsWeights` false, and `freeze()`). The encoder is never adapted.
    @discardableResult
    public func attachLoRA(_ settings: LoRAAdapters.Settings, rng: inout RandomStream) throws -> LoRAAdapters {
        precondition(store.lora == nil, "TextToImageModel.attachLoRA: adapters are attached already")
        let unetSlots = store.linearWeightSlots.filter { !$0.name.hasPrefix("text_encoder.") && !$0.name.hasPrefix("prompt_encoder.") }
        let adapters = try LoRAAdapters(settings, candidates: unetSlots)
        adapters.initialize(&rng)
        store.lora = adapters
        store.trainsWeights = false
        // The base's weights no longer change: forms derived from them are kept (`freeze`).
        store.freeze()
        return adapters
    }

    /// Runs `body` with the adapters off (the model is its base, bit for bit); without adapters, just runs it.
    public func withAdaptersOff<T>(_ body: () throws -> T) rethrows -> T {
        guard let lora = store.lora else { return try body() }
        let was = lora.enabled
        lora.enabled = false
        defer { lora.enabled = was }
        return try body()
    }
}
