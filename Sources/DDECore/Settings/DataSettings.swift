import Foundation

/// The training images and prompts: the `data`, `world.defect_rate`, `data.skip_bad` and `prompts` keys.
public struct DataSettings: Sendable, Equatable {
    /// `world`, or `folder:PATH`.
    public var source: String
    public var worldDefectRate: Float
    /// Skip (and count) unreadable images and bad lines instead of stopping.
    public var skipBad: Bool
    /// `prompts`: a file of captions, one a line, or "" (`RunPrompts`).
    public var promptsFile: String

    init(_ config: Config) {
        promptsFile = config.string("prompts")
        source = config.string("data")
        worldDefectRate = config.float("world.defect_rate")
        skipBad = config.bool("data.skip_bad")
    }

    /// The folder of `data = folder:PATH`, or nil for the world.
    public var folder: String? { source.hasPrefix("folder:") ? String(source.dropFirst("folder:".count)) : nil }

    /// The content of a `folder:` source, an input of the pretrain stage's signature: every file
    /// below it (relative path and bytes, in path order), so a changed image or caption is never
    /// mixed into a base model made before. Nil for the world, which the keys describe whole.
    public func contentDigest() throws -> ContentDigest? {
        guard let folder else { return nil }
        guard let names = FileManager.default.enumerator(atPath: folder)?.compactMap({ $0 as? String }) else {
            throw DataError("key 'data': \(folder) is not a readable folder")
        }
        var digest = ContentDigest()
        for name in names.sorted() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            digest.add(name)
            digest.add(try FileIO.read(folder + "/" + name))
        }
        return digest
    }

    /// The configured training images at side `sampleSize`.
    public func images(sampleSize: Int) throws -> TrainingImages {
        if source == "world" { return WorldImages(sampleSize: sampleSize, defectRate: worldDefectRate) }
        if let folder { return try FolderImages(folder: folder, sampleSize: sampleSize, skipBad: skipBad) }
        throw DataError("key 'data': '\(source)' is neither 'world' nor 'folder:PATH'")
    }
}
