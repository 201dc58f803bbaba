import Foundation

/// The trained classifier as a safetensors file (`annotators/align.safetensors`): every tensor
/// under its layer name (`conv1.weight`, ..., `head.size.bias`), the architecture and what
/// training measured in `__metadata__`.
extension AlignClassifier {
    /// The `format` metadata value of a classifier file.
    public static let fileFormat = "dde-train/align-1"

    /// Writes the weights crash-safely to `path`; `metadata` is added to the architecture keys
    /// (`format`, `channels`, `strides`, `feature_count`, `channels_per_group`), which it may not replace.
    public func write(to path: String, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta["format"] = Self.fileFormat
        meta["channels"] = channels.map(String.init).joined(separator: ",")
        meta["strides"] = strides.map(String.init).joined(separator: ",")
        meta["feature_count"] = String(featureCount)
        meta["channels_per_group"] = String(channelsPerGroup)
        try store.write(to: path, metadata: meta)
    }

    /// Rebuilds a classifier from a file `write(to:metadata:)` made: the architecture from the
    /// metadata, then every tensor checked by name and shape. Returns the metadata too.
    public static func load(from path: String, workspace: Workspace) throws -> (classifier: AlignClassifier, metadata: [String: String]) {
        let file = try SafeTensorsReader(contentsOf: path)
        let meta = file.metadata
        guard meta["format"] == fileFormat else {
            throw SafeTensorsError(path, "not an align classifier (metadata 'format' is \(meta["format"].map { "'\($0)'" } ?? "missing"), expected '\(fileFormat)'); rebuild it with the annotators stage")
        }
        let channels = (meta["channels"] ?? "").split(separator: ",").compactMap { Int($0) }
        let strides = (meta["strides"] ?? "").split(separator: ",").compactMap { Int($0) }
        guard !channels.isEmpty, strides.count == channels.count, strides.allSatisfy({ $0 == 1 || $0 == 2 }), let features = meta["feature_count"].flatMap(Int.init),
              let perGroup = meta["channels_per_group"].flatMap(Int.init), perGroup > 0,
              channels.allSatisfy({ $0 > 0 && $0 % perGroup == 0 }), features > 0 else {
            throw SafeTensorsError(path, "metadata lacks a readable channels, strides, feature_count or channels_per_group (a damaged file?)")
        }
        // The architecture's size, before anything is allocated for it: a damaged `channels`
        // could otherwise ask for terabytes.
        let implied = parameterCount(channels: channels, featureCount: features)
        let held = file.tensors.reduce(0.0) { $0 + $1.shape.reduce(1.0) { $0 * Double($1) } }
        guard implied == held else {
            throw SafeTensorsError(path, "its metadata describes a classifier of \(String(format: "%.0f", implied)) parameters but the file holds \(String(format: "%.0f", held)) values (a damaged file?); rebuild it with the annotators stage")
        }
        let classifier = AlignClassifier(channels: channels, strides: strides, featureCount: features, channelsPerGroup: perGroup,
                                         workspace: workspace)
        try classifier.store.load(from: file)
        return (classifier, meta)
    }

    /// The parameters `init(channels:strides:featureCount:channelsPerGroup:)` registers, counted
    /// in Double (no overflow for any metadata): 3x3 convolutions with biases, group-norm scales
    /// and shifts, the penultimate layer and one head per attribute.
    static func parameterCount(channels: [Int], featureCount: Int) -> Double {
        var count = 0.0, previous = 3.0
        for c in channels.map(Double.init) {
            count += previous * c * 9 + c + 2 * c
            previous = c
        }
        let f = Double(featureCount)
        count += previous * f + f
        for k in classCounts.map(Double.init) { count += f * k + k }
        return count
    }
}
