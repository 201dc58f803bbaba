/// The pretraining sampler of the `shapes` world: a uniform prompt from a split, rendered, and
/// with probability `defectRate` one defect chosen uniformly.
public struct ShapesDataset: Sendable {
    /// What one sampled image shows: its prompt and its defect (nil for a clean image).
    public struct Label: Sendable, Equatable {
        public let prompt: ShapesPrompt
        public let defect: Defect?
        public init(prompt: ShapesPrompt, defect: Defect?) {
            self.prompt = prompt
            self.defect = defect
        }
    }

    public let prompts: [ShapesPrompt]
    public let renderer: ShapesRenderer
    /// The share of images carrying a defect (`world.defect_rate`, default 0.35).
    public let defectRate: Float

    /// A sampler over `prompts` (for example `ShapesWorld.split().train`) at `size` pixels.
    public init(prompts: [ShapesPrompt], size: Int = 16, defectRate: Float = 0.35) {
        precondition(!prompts.isEmpty, "a shapes dataset needs at least one prompt")
        precondition((0...1).contains(defectRate), "defectRate \(defectRate) is outside [0, 1]")
        self.prompts = prompts
        self.renderer = ShapesRenderer(size: size)
        self.defectRate = defectRate
    }

    public var size: Int { renderer.size }
    /// Floats in one image, `3 * size * size`.
    public var imageCount: Int { renderer.imageCount }

    /// Draws a prompt and a defect from `rng` (always the same two numbers first, then the
    /// defect's index only when there is one) and renders it into `out` (3, S, S).
    @discardableResult
    public func sample(into out: UnsafeMutablePointer<Float>, rng: inout RandomStream) -> Label {
        let prompt = prompts[rng.int(below: prompts.count)]
        let defect = rng.uniform() < defectRate ? Defect.allCases[rng.int(below: Defect.allCases.count)] : nil
        renderer.render(prompt, defect: defect, rng: &rng, into: out)
        return Label(prompt: prompt, defect: defect)
    }

    /// One sample as a new array plus its label.
    public func sample(rng: inout RandomStream) -> (image: [Float], label: Label) {
        var label: Label?
        let image = [Float](unsafeUninitializedCapacity: imageCount) { buffer, count in
            label = sample(into: buffer.baseAddress!, rng: &rng)
            count = imageCount
        }
        return (image, label!)
    }

    /// Fills `out` (N, 3, S, S) with `count` samples and replaces `labels` with theirs; keeping
    /// `labels` between calls makes a batch allocation-free. The same as `count` calls of
    /// `sample(into:rng:)`.
    public func fillBatch(_ out: UnsafeMutablePointer<Float>, count: Int, rng: inout RandomStream,
                          labels: inout [Label]) {
        labels.removeAll(keepingCapacity: true)
        labels.reserveCapacity(count)
        for n in 0..<count { labels.append(sample(into: out + n * imageCount, rng: &rng)) }
    }

    /// `fillBatch(_:count:rng:labels:)` returning the labels.
    public func fillBatch(_ out: UnsafeMutablePointer<Float>, count: Int, rng: inout RandomStream) -> [Label] {
        var labels: [Label] = []
        fillBatch(out, count: count, rng: &rng, labels: &labels)
        return labels
    }

    /// A clean render of `prompt` (for annotator training and Frechet-distance reference
    /// images) into `out` (3, S, S).
    @discardableResult
    public func renderClean(_ prompt: ShapesPrompt, rng: inout RandomStream,
                            into out: UnsafeMutablePointer<Float>) -> ShapesScene {
        renderer.render(prompt, defect: nil, rng: &rng, into: out)
    }

    /// A clean render of `prompt` as a new array.
    public func renderClean(_ prompt: ShapesPrompt, rng: inout RandomStream) -> [Float] {
        renderer.render(prompt, defect: nil, rng: &rng)
    }
}
