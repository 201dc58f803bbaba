/// What the report keeps of each model's evaluation for its image grids: `promptLimit` test
/// prompts spread over the set, their first `imageLimit` images, as 8-bit images (a few KB per model instead of every
/// image of every model). Image j of prompt i starts from the same noise for every model
/// (`ModelEvaluation`), so one grid cell compares methods on the same prompt and seed.
public struct ReportSamples: Sendable {
    public struct Model: Sendable {
        public let name: String
        /// Rows = prompts, columns = images.
        public let images: [[RGBImage]]
    }

    public let promptLimit: Int
    public let imageLimit: Int
    /// The prompts of the grid rows (those of the first model added).
    public private(set) var prompts: [String] = []
    /// In the order added: the base first, then the fine-tunes.
    public private(set) var models: [Model] = []

    public init(prompts: Int = 8, images: Int = 4) {
        promptLimit = prompts
        imageLimit = images
    }

    /// Keeps the first images of `promptLimit` prompts spread evenly over `name`'s evaluation
    /// (the prompts are sorted, so the first few would all share one shape).
    public mutating func add(_ name: String, _ evaluation: ModelEvaluation) {
        let count = evaluation.prompts.count, n = min(promptLimit, count), m = min(imageLimit, evaluation.perPrompt)
        let chosen = (0..<n).map { $0 * count / n }
        let images = chosen.map { i in
            (0..<m).map { j in
                let chw = evaluation.images[i * evaluation.perPrompt + j]
                let side = Int(Double(chw.count / 3).squareRoot().rounded())
                return RGBImage(chw: chw, width: side, height: side)
            }
        }
        add(name, prompts: chosen.map { evaluation.prompts[$0].text }, images: images)
    }

    /// Keeps `images` (rows = prompts, columns = images), cut to the limits.
    public mutating func add(_ name: String, prompts: [String], images: [[RGBImage]]) {
        if models.isEmpty { self.prompts = Array(prompts.prefix(promptLimit)) }
        models.append(Model(name: name, images: images.prefix(promptLimit).map { Array($0.prefix(imageLimit)) }))
    }

    /// Image side in the grids: each sample scaled up by nearest neighbour to at least 64 px.
    public var scale: Int {
        let side = models.first?.images.first?.first?.width ?? 64
        return max(1, (64 + side - 1) / side)
    }

    /// Pixels between grid cells (`ImageGrid`'s gap).
    public static let gap = 2

    public static func gridFile(_ model: String) -> String { "grid-\(model).png" }
    public static let overviewFile = "grid-all.png"

    /// One model's grid: rows = prompts, columns = images.
    public func grid(_ model: Model) -> RGBImage {
        ImageGrid.make(model.images, scale: scale, gap: Self.gap)
    }

    /// Every model's image 0 of each prompt: rows = models (base first), columns = prompts.
    public func overview() -> RGBImage {
        ImageGrid.make(models.map { $0.images.compactMap(\.first) }, scale: scale, gap: Self.gap)
    }

    /// Writes `grid-all.png` and a `grid-<model>.png` per model into `folder` (which must exist);
    /// returns the file names written.
    @discardableResult
    public func write(to folder: String) throws -> [String] {
        guard !models.isEmpty else { return [] }
        try PNGFile.write(overview(), to: folder + "/" + Self.overviewFile)
        for m in models { try PNGFile.write(grid(m), to: folder + "/" + Self.gridFile(m.name)) }
        return [Self.overviewFile] + models.map { Self.gridFile($0.name) }
    }
}
