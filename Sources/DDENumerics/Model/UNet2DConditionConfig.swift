/// The shape of the cross-attention U-Net: diffusers' `UNet2DConditionModel` config in the
/// Stable Diffusion 1.x/2.x/SDXL family, with its quirks resolved (the config file's own
/// spelling is read and written in DDECore's `DiffusersUNetConfig`).
public struct UNet2DConditionConfig: Sendable, Equatable, Codable {
    public enum DownBlock: String, Sendable, Codable, CaseIterable {
        case crossAttention = "CrossAttnDownBlock2D"
        case plain = "DownBlock2D"
    }

    public enum UpBlock: String, Sendable, Codable, CaseIterable {
        case plain = "UpBlock2D"
        case crossAttention = "CrossAttnUpBlock2D"
    }

    /// `down_block_types`, one per level, highest resolution first.
    public var downBlockTypes: [DownBlock]
    /// `up_block_types`, one per level, lowest resolution first.
    public var upBlockTypes: [UpBlock]
    public var blockOutChannels: [Int]
    public var layersPerBlock: Int
    public var normNumGroups: Int
    /// `norm_eps`: the resnets' and `conv_norm_out`'s group norms (the transformers' are 1e-6).
    public var normEps: Float
    /// `cross_attention_dim`: the text encoder's width.
    public var crossAttentionDim: Int
    /// Attention heads per level: `num_attention_heads`, or, when that is unset,
    /// `attention_head_dim` (diffusers' naming quirk: in this class it is the number of heads;
    /// a head's width is the level's channels over it). The mid block uses the last level's.
    public var attentionHeads: [Int]
    /// `transformer_layers_per_block`, per level; the mid block uses the last level's.
    public var transformerLayersPerBlock: [Int]
    /// `use_linear_projection`: `proj_in`/`proj_out` are linear layers, not 1x1 convolutions.
    public var useLinearProjection: Bool
    public var flipSinToCos: Bool
    public var freqShift: Int
    public var inChannels: Int
    public var outChannels: Int
    public var sampleSize: Int

    public init(downBlockTypes: [DownBlock], upBlockTypes: [UpBlock], blockOutChannels: [Int], layersPerBlock: Int,
                normNumGroups: Int, normEps: Float = 1e-5, crossAttentionDim: Int, attentionHeads: [Int],
                transformerLayersPerBlock: [Int], useLinearProjection: Bool = false, flipSinToCos: Bool = true,
                freqShift: Int = 0, inChannels: Int = 3, outChannels: Int = 3, sampleSize: Int) {
        self.downBlockTypes = downBlockTypes
        self.upBlockTypes = upBlockTypes
        self.blockOutChannels = blockOutChannels
        self.layersPerBlock = layersPerBlock
        self.normNumGroups = normNumGroups
        self.normEps = normEps
        self.crossAttentionDim = crossAttentionDim
        self.attentionHeads = attentionHeads
        self.transformerLayersPerBlock = transformerLayersPerBlock
        self.useLinearProjection = useLinearProjection
        self.flipSinToCos = flipSinToCos
        self.freqShift = freqShift
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.sampleSize = sampleSize
    }

    /// Heads per level as diffusers' `UNet2DConditionModel` resolves them, quirk included:
    /// `num_attention_heads` when given, else `attention_head_dim` (which in this class counts
    /// heads, not a head's width). The one place the rule is written; the config keys and the
    /// diffusers import both call it.
    public static func resolvedHeads(numAttentionHeads: [Int]?, attentionHeadDim: [Int]) -> [Int] {
        numAttentionHeads ?? attentionHeadDim
    }

    /// Width of the time embedding: 4 * C0.
    public var embeddingDimension: Int { 4 * blockOutChannels[0] }

    /// The first thing wrong with the shape, in the config's own words, or nil.
    public var problem: String? {
        let levels = blockOutChannels.count
        if levels == 0 { return "block_out_channels is empty" }
        if downBlockTypes.count != levels { return "down_block_types has \(downBlockTypes.count) entries, block_out_channels \(levels)" }
        if upBlockTypes.count != levels { return "up_block_types has \(upBlockTypes.count) entries, block_out_channels \(levels)" }
        if attentionHeads.count != levels { return "attention_head_dim has \(attentionHeads.count) entries, block_out_channels \(levels)" }
        if transformerLayersPerBlock.count != levels {
            return "transformer_layers_per_block has \(transformerLayersPerBlock.count) entries, block_out_channels \(levels)"
        }
        if layersPerBlock < 1 { return "layers_per_block = \(layersPerBlock) must be at least 1" }
        if let c = blockOutChannels.first(where: { $0 < 1 || $0 % normNumGroups != 0 }) {
            return "block_out_channels entry \(c) is not a positive multiple of norm_num_groups = \(normNumGroups)"
        }
        for (level, heads) in attentionHeads.enumerated() where heads < 1 || blockOutChannels[level] % heads != 0 {
            return "attention heads \(heads) at level \(level) do not divide its \(blockOutChannels[level]) channels"
        }
        if transformerLayersPerBlock.contains(where: { $0 < 1 }) { return "transformer_layers_per_block entries must be at least 1" }
        if sampleSize % (1 << (levels - 1)) != 0 {
            return "sample_size = \(sampleSize) is not divisible by 2^\(levels - 1) (one halving per level but the last)"
        }
        if blockOutChannels[0] % 2 != 0 || blockOutChannels[0] / 2 <= freqShift {
            return "block_out_channels[0] = \(blockOutChannels[0]) must be even and above 2 x freq_shift"
        }
        return nil
    }
}
