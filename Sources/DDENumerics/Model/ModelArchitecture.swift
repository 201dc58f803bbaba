/// What both U-Net configs say alike: the image they take and the channels per level.
public protocol UNetShape: Sendable {
    var sampleSize: Int { get }
    var inChannels: Int { get }
    var blockOutChannels: [Int] { get }
}

extension UNetConfig: UNetShape {}
extension UNet2DConditionConfig: UNetShape {}

/// Which text-to-image network a model is, with its shape: what a model file records and what
/// `TextToImageModel` builds.
public enum ModelArchitecture: Sendable, Equatable {
    /// diffusers' attention-free `UNet2DModel`, conditioned by the project's prompt encoder
    /// (word embeddings `encoderDimension` wide, model.md) through the time embedding.
    case unet2D(UNetConfig, encoderDimension: Int)
    /// Stable Diffusion's `UNet2DConditionModel`, attending to a CLIP-style text encoder's last
    /// hidden states (its width is the U-Net's `cross_attention_dim`).
    case unet2DCondition(UNet2DConditionConfig, textEncoder: TextEncoderConfig)

    /// diffusers' class name of the U-Net, the `model.class` key's value.
    public var className: String {
        switch self {
        case .unet2D: "UNet2DModel"
        case .unet2DCondition: "UNet2DConditionModel"
        }
    }

    /// The U-Net's config, for what both say alike.
    public var unet: any UNetShape {
        switch self {
        case .unet2D(let c, _): c
        case .unet2DCondition(let c, _): c
        }
    }

    /// Floats of conditioning per prompt: the prompt encoder's vector (E) or the text
    /// encoder's hidden states (L x D).
    public var conditioningCount: Int {
        switch self {
        case .unet2D(let c, _): c.embeddingDimension
        case .unet2DCondition(_, let t): t.length * t.width
        }
    }
}
