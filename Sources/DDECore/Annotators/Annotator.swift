// Annotators: the judges that label pairs and score evaluations. `Annotator` is the protocol (one
// deterministic score in [0, 1] per image and prompt); `AlignAnnotator` reads a trained CNN,
// `AlignClassifier`, while `AestheticAnnotator` and `PickAnnotator` are written-out formulas over
// `ImageStatistics`; `AnnotatorSet` holds the three. `AnnotatorTrainer` is the `annotators` stage:
// it trains the classifier on clean renders of World through `TrainingRun` (Stages) and saves it
// through IO's safetensors. No loss ever sees an annotator.

/// A judge of generated images: one score in [0, 1] per (image, prompt), higher is better.
///
/// The testbed's three annotators play the paper's CLIP, HPS and PickScore: `AlignAnnotator`
/// (does the image show the prompt?), `AestheticAnnotator` (is it a clean picture?) and
/// `PickAnnotator` (an overall judgement with tastes of its own). They label preference pairs
/// and score the evaluation; no loss ever sees one.
///
/// Contract: scores are in [0, 1] and deterministic (the same images and prompts give the same
/// scores, bit for bit, whatever the batch around them). Images are Float CHW in model units
/// `x = byte / 127.5 - 1`, (3, S, S) each, N of them back to back.
public protocol Annotator: Sendable {
    /// `align`, `aesthetic` or `pick`: the name configs and reports use.
    var name: String { get }

    /// What the scores depend on besides the images: the weights of a trained annotator, the
    /// name of a formula. The pairs stage's signature records the digest of its annotator.
    var contentDigest: ContentDigest { get }

    /// images: (N, 3, S, S) in [-1, 1]  prompts: (N) -> (N) scores in [0, 1].
    func scores(images: UnsafePointer<Float>, prompts: [ShapesPrompt], count: Int, size: Int) -> [Double]
}

extension Annotator {
    /// `scores(images:prompts:count:size:)` over an array of `prompts.count` images.
    public func scores(_ images: [Float], prompts: [ShapesPrompt], size: Int) -> [Double] {
        precondition(images.count == prompts.count * 3 * size * size,
                     "\(name): \(images.count) floats are not \(prompts.count) images of 3 x \(size) x \(size)")
        return images.withUnsafeBufferPointer { scores(images: $0.baseAddress!, prompts: prompts, count: prompts.count, size: size) }
    }
}
