/// The `model` and encoder keys: the U-Net (diffusers' `UNet2DModel` arguments) and the prompt
/// encoder's width and length.
public struct ModelSettings: Sendable, Equatable {
    public var unet: UNetConfig
    /// `encoder.dim`: the word embedding width D.
    public var encoderDimension: Int
    /// `encoder.max_tokens`: words per prompt L.
    public var maxTokens: Int

    init(_ config: Config) {
        unet = UNetConfig(blockOutChannels: config.intList("block_out_channels"), layersPerBlock: config.int("layers_per_block"),
                          normNumGroups: config.int("norm_num_groups"), sampleSize: config.int("sample_size"))
        encoderDimension = config.int("encoder.dim")
        maxTokens = config.int("encoder.max_tokens")
    }

    /// A fresh, uninitialised model with a tokenizer over `captions`, computing in `workspace`.
    public func makeModel(captions: [String], workspace: Workspace) -> TextToImageModel {
        TextToImageModel(unet, tokenizer: Tokenizer(captions: captions, maxTokens: maxTokens), encoderDimension: encoderDimension,
                         workspace: workspace)
    }
}
