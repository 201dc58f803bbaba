// Annotators: the judges that label pairs and score evaluations. `Annotator` is the protocol (one
// deterministic score in [0, 1] per image and prompt); `AlignAnnotator` reads a trained CNN,
// `AlignClassifier`, while `AestheticAnnotator` and `PickAnnotator` are written-out formulas over
// `ImageStatistics`; `AnnotatorSet` holds the three. `AnnotatorTrainer` is the `annotators` stage:
// it trains the classifier on clean renders of World through `TrainingRun` (Stages) and saves it
// through IO's safetensors. No loss ever sees an annotator.

/// A judge of generated images: one score per (image, caption), higher is better.
///
/// The testbed's three annotators play the paper's CLIP, HPS and PickScore: `AlignAnnotator`
/// (does the image show the prompt?), `AestheticAnnotator` (is it a clean picture?) and
/// `PickAnnotator` (an overall judgement with tastes of its own); they read only the shapes
/// world's captions (`ShapesAnnotator`). An `ExternalAnnotator` runs a user's command. They
/// label preference pairs and score the evaluation; no loss ever sees one.
///
/// Contract: scores are finite and deterministic (the same images and captions in the same
/// batches give the same scores, bit for bit; in other batches the align classifier's GEMMs
/// round differently, by about 1e-10 here, AnnotatorTests); the built-in ones are in [0, 1].
/// Images are Float CHW in model units `x = byte / 127.5 - 1`, (3, S, S) each, N of them back
/// to back.
public protocol Annotator: Sendable {
    /// `align`, `aesthetic`, `pick` or an external annotator's NAME: the name configs and reports use.
    var name: String { get }

    /// What the scores depend on besides the images: the weights of a trained annotator, the
    /// name of a formula, an external command. The pairs stage's signature records it.
    var contentDigest: ContentDigest { get }

    /// images: (N, 3, S, S) in [-1, 1]  captions: (N) -> (N) scores. Throws when it cannot score
    /// them: a caption a built-in annotator cannot read, an external command that fails.
    func scores(images: UnsafePointer<Float>, captions: [String], count: Int, size: Int) throws -> [Double]
}

extension Annotator {
    /// `scores(images:captions:count:size:)` over an array of `captions.count` images.
    public func scores(_ images: [Float], captions: [String], size: Int) throws -> [Double] {
        precondition(images.count == captions.count * 3 * size * size,
                     "\(name): \(images.count) floats are not \(captions.count) images of 3 x \(size) x \(size)")
        return try images.withUnsafeBufferPointer { try scores(images: $0.baseAddress!, captions: captions, count: captions.count, size: size) }
    }
}

/// A built-in annotator: it scores the shapes world's prompts, whose words it reads (the shape
/// to look for, the background to segment against).
public protocol ShapesAnnotator: Annotator {
    /// images: (N, 3, S, S) in [-1, 1]  prompts: (N) -> (N) scores in [0, 1].
    func scores(images: UnsafePointer<Float>, prompts: [ShapesPrompt], count: Int, size: Int) -> [Double]
}

extension ShapesAnnotator {
    public func scores(images: UnsafePointer<Float>, captions: [String], count: Int, size: Int) throws -> [Double] {
        let prompts = try captions.map { caption -> ShapesPrompt in
            guard let prompt = ShapesPrompt(text: caption) else { throw AnnotatorError.notShapesCaption(caption, annotator: name) }
            return prompt
        }
        return scores(images: images, prompts: prompts, count: count, size: size)
    }

    /// `scores(images:prompts:count:size:)` over an array of `prompts.count` images.
    public func scores(_ images: [Float], prompts: [ShapesPrompt], size: Int) -> [Double] {
        precondition(images.count == prompts.count * 3 * size * size,
                     "\(name): \(images.count) floats are not \(prompts.count) images of 3 x \(size) x \(size)")
        return images.withUnsafeBufferPointer { scores(images: $0.baseAddress!, prompts: prompts, count: prompts.count, size: size) }
    }
}

/// An annotator that could not score: one line that names the annotator and what to do.
public struct AnnotatorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// A caption outside the shapes world's grammar given to a built-in annotator.
    static func notShapesCaption(_ caption: String, annotator: String, place: String? = nil) -> AnnotatorError {
        AnnotatorError((place.map { "\($0): " } ?? "") + "'\(caption.excerpt)' is not a shapes-world caption ('a large red circle on a navy background'), "
                       + "which is all the built-in annotator \(annotator) can judge; score such captions with an external annotator "
                       + "(annotator.NAME = COMMAND, README: Your own scorer)")
    }
}
