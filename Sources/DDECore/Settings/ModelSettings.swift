/// The network the `model.class` key names: diffusers' class of the U-Net.
public enum ModelClass: String, CaseIterable, Sendable {
    case unet2D = "UNet2DModel"
    case unet2DCondition = "UNet2DConditionModel"
}

/// The `mid_block_type` key: the one mid block of the Stable Diffusion family.
public enum MidBlockType: String, CaseIterable, Sendable {
    case crossAttention = "UNetMidBlock2DCrossAttn"
}

/// The `model` and encoder keys: the U-Net (diffusers' `UNet2DModel` or `UNet2DConditionModel`
/// arguments) and the encoder of the prompt (the prompt encoder's width and length, or the
/// text encoder's depth, heads and length).
public struct ModelSettings: Sendable, Equatable {
    /// `model.class`
    public var modelClass: ModelClass
    /// The attention-free U-Net's shape (`block_out_channels`, `layers_per_block`, ...).
    public var unet: UNetConfig
    /// `encoder.dim`: the word embedding width D.
    public var encoderDimension: Int
    /// `encoder.max_tokens`: words per prompt L.
    public var maxTokens: Int
    /// The cross-attention U-Net's shape, resolved from its keys.
    public var conditionUNet: UNet2DConditionConfig
    /// `mid_block_type`: the family has one (`UNetMidBlock2DCrossAttn`), which `UNetCore` builds.
    public var midBlock: MidBlockType
    /// `text_encoder.layers`, `text_encoder.heads`, `text_encoder.intermediate_size`, `text_encoder.length`.
    public var textEncoderLayers: Int, textEncoderHeads: Int, textEncoderIntermediate: Int, textEncoderLength: Int

    init(_ config: Config) {
        modelClass = config.choice("model.class")
        unet = UNetConfig(blockOutChannels: config.intList("block_out_channels"), layersPerBlock: config.int("layers_per_block"),
                          normNumGroups: config.int("norm_num_groups"), sampleSize: config.int("sample_size"))
        encoderDimension = config.int("encoder.dim")
        maxTokens = config.int("encoder.max_tokens")
        conditionUNet = Self.conditionConfig(config)
        midBlock = config.choice("mid_block_type")
        textEncoderLayers = config.int("text_encoder.layers")
        textEncoderHeads = config.int("text_encoder.heads")
        textEncoderIntermediate = config.int("text_encoder.intermediate_size")
        textEncoderLength = config.int("text_encoder.length")
    }

    /// `UNet2DConditionModel`'s shape as diffusers resolves its arguments: heads per level are
    /// `num_attention_heads`, or `attention_head_dim` when that is unset; a one-entry list
    /// stands for every level.
    static func conditionConfig(_ config: Config) -> UNet2DConditionConfig {
        let channels = config.intList("block_out_channels"), levels = channels.count
        func perLevel(_ key: String) -> [Int] {
            let values = config.intList(key)
            return values.count == 1 ? Array(repeating: values[0], count: levels) : values
        }
        let heads = UNet2DConditionConfig.resolvedHeads(
            numAttentionHeads: config.intList("num_attention_heads").isEmpty ? nil : perLevel("num_attention_heads"),
            attentionHeadDim: perLevel("attention_head_dim"))
        return UNet2DConditionConfig(
            downBlockTypes: config.stringList("down_block_types").compactMap(UNet2DConditionConfig.DownBlock.init(rawValue:)),
            upBlockTypes: config.stringList("up_block_types").compactMap(UNet2DConditionConfig.UpBlock.init(rawValue:)),
            blockOutChannels: channels, layersPerBlock: config.int("layers_per_block"), normNumGroups: config.int("norm_num_groups"),
            normEps: Float(config.double("norm_eps")), crossAttentionDim: config.int("cross_attention_dim"), attentionHeads: heads,
            transformerLayersPerBlock: perLevel("transformer_layers_per_block"),
            useLinearProjection: config.bool("use_linear_projection"), flipSinToCos: config.bool("flip_sin_to_cos"),
            freqShift: config.int("freq_shift"), sampleSize: config.int("sample_size"))
    }

    /// The architecture these settings describe, with a tokenizer of `tokenizer`'s vocabulary.
    public func architecture(tokenizer: Tokenizer) -> ModelArchitecture {
        switch modelClass {
        case .unet2D:
            return .unet2D(unet, encoderDimension: encoderDimension)
        case .unet2DCondition:
            return .unet2DCondition(conditionUNet, textEncoder: TextEncoderConfig(
                vocabularySize: tokenizer.vocabularySize, width: conditionUNet.crossAttentionDim, layers: textEncoderLayers,
                heads: textEncoderHeads, intermediate: textEncoderIntermediate, length: tokenizer.maxTokens))
        }
    }

    /// Words per prompt of this class's encoder.
    public var tokensPerPrompt: Int { modelClass == .unet2D ? maxTokens : textEncoderLength }

    /// A fresh, uninitialised model with a tokenizer over `captions`, computing in `workspace`.
    public func makeModel(captions: [String], workspace: Workspace) -> TextToImageModel {
        let tokenizer = Tokenizer(captions: captions, maxTokens: tokensPerPrompt)
        return TextToImageModel(architecture(tokenizer: tokenizer), tokenizer: tokenizer, workspace: workspace)
    }
}
