// Data: where pretraining images come from. `TrainingImages` is the protocol the pretrain stage
// draws batches, a validation set and sample prompts from; `WorldImages` serves the `shapes` world
// (World) with defects at `world.defect_rate`, and `FolderImages` serves `data = folder:PATH` (PNG
// files plus `captions.jsonl`, every 20th image held out). Builds on World, IO and `RandomStream`;
// `DataSettings` (Settings) picks one.

/// Where pretraining images come from: the built-in world or a folder of PNGs with captions.
public protocol TrainingImages: AnyObject {
    /// Image side in pixels (images are (3, S, S) in [-1, 1]).
    var sampleSize: Int { get }
    /// Every caption the data can produce, for building the tokenizer's vocabulary.
    var vocabularyCaptions: [String] { get }
    /// Fills `count` training images and their prompts.
    func fillBatch(_ out: UnsafeMutablePointer<Float>, count: Int, rng: inout RandomStream, prompts: inout [String])
    /// A fixed held-out set: `count` images (clean) and their prompts, the same for a seed.
    func validationSet(count: Int, seed: UInt64) -> (images: [Float], prompts: [String])
    /// Held-out prompts for sample grids.
    var samplePrompts: [String] { get }
}

/// The built-in `shapes` world: training prompts from the train split, defects at
/// `world.defect_rate`; validation from the validation split, clean renders.
public final class WorldImages: TrainingImages {
    public let sampleSize: Int
    let dataset: ShapesDataset
    let validation: ShapesDataset
    let split = ShapesWorld.split()
    private var labels: [ShapesDataset.Label] = []

    public init(sampleSize: Int, defectRate: Float) {
        self.sampleSize = sampleSize
        dataset = ShapesDataset(prompts: split.train, size: sampleSize, defectRate: defectRate)
        validation = ShapesDataset(prompts: split.validation, size: sampleSize, defectRate: 0)
    }

    public var vocabularyCaptions: [String] { ShapesWorld.prompts.map(\.text) }

    public func fillBatch(_ out: UnsafeMutablePointer<Float>, count: Int, rng: inout RandomStream, prompts: inout [String]) {
        dataset.fillBatch(out, count: count, rng: &rng, labels: &labels)
        prompts.removeAll(keepingCapacity: true)
        for l in labels { prompts.append(l.prompt.text) }
    }

    public func validationSet(count: Int, seed: UInt64) -> (images: [Float], prompts: [String]) {
        var rng = RandomStream(seed: seed, stream: 0x7661_6C)
        let d = 3 * sampleSize * sampleSize
        var images = [Float](repeating: 0, count: count * d)
        var prompts: [String] = []
        images.withUnsafeMutableBufferPointer { buf in
            for i in 0..<count {
                let prompt = split.validation[i % split.validation.count]
                validation.renderClean(prompt, rng: &rng, into: buf.baseAddress! + i * d)
                prompts.append(prompt.text)
            }
        }
        return (images, prompts)
    }

    public var samplePrompts: [String] { Array(split.validation.prefix(8).map(\.text)) }
}
