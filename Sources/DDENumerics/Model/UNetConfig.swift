/// The shape of the U-Net: diffusers' `UNet2DModel` config keys (model.md).
public struct UNetConfig: Sendable, Equatable, Codable {
    public var blockOutChannels: [Int]
    public var layersPerBlock: Int
    public var normNumGroups: Int
    public var sampleSize: Int
    public var inChannels = 3
    public var outChannels = 3

    public init(blockOutChannels: [Int], layersPerBlock: Int, normNumGroups: Int, sampleSize: Int) {
        self.blockOutChannels = blockOutChannels
        self.layersPerBlock = layersPerBlock
        self.normNumGroups = normNumGroups
        self.sampleSize = sampleSize
    }

    /// model.md's reference size: 2,530,371 parameters.
    public static let reference = UNetConfig(blockOutChannels: [64, 128], layersPerBlock: 1, normNumGroups: 8, sampleSize: 16)

    /// Width of the time (and conditioning) embedding: 4 * C0.
    public var embeddingDimension: Int { 4 * blockOutChannels[0] }
}
