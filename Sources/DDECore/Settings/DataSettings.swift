/// The training images: the `data`, `world.defect_rate` and `data.skip_bad` keys.
public struct DataSettings: Sendable, Equatable {
    /// `world`, or `folder:PATH`.
    public var source: String
    public var worldDefectRate: Float
    /// Skip (and count) unreadable images and bad lines instead of stopping.
    public var skipBad: Bool

    init(_ config: Config) {
        source = config.string("data")
        worldDefectRate = config.float("world.defect_rate")
        skipBad = config.bool("data.skip_bad")
    }

    /// The configured training images at side `sampleSize`.
    public func images(sampleSize: Int) throws -> TrainingImages {
        if source == "world" { return WorldImages(sampleSize: sampleSize, defectRate: worldDefectRate) }
        if source.hasPrefix("folder:") {
            return try FolderImages(folder: String(source.dropFirst("folder:".count)), sampleSize: sampleSize, skipBad: skipBad)
        }
        throw DataError("key 'data': '\(source)' is neither 'world' nor 'folder:PATH'")
    }
}
