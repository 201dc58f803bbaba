import Foundation

/// A model's distribution metrics (testbed.md, Evaluation): what the per-annotator means cannot
/// show, reward hacking and lost diversity.
public struct DistributionReport: Sendable, Equatable {
    /// Frechet distance between the `align` classifier's penultimate features (F = 64) of the
    /// generated images and of clean renders of the same prompts (`FrechetDistance`). Lower is
    /// closer to the clean world.
    public var fd: Double
    /// The Inception-Score analog: the arithmetic mean over the four attributes of
    /// `inceptionScores` (`InceptionScore`). Higher is more confident and more varied.
    public var inceptionScore: Double
    /// Per attribute (shape, colour, background, size), in [1, K_a] with K = (6, 8, 4, 2).
    public var inceptionScores: [Double]
    /// Mean distance of the shape's colour from the prompt's nominal colour, sRGB byte units
    /// (`ColourError`).
    public var colourErrorShape: Double
    /// Mean distance of the background's colour from the prompt's nominal background, sRGB units.
    public var colourErrorBackground: Double
    /// `(colourErrorShape + colourErrorBackground) / 2`.
    public var colourError: Double

    public init(fd: Double, inceptionScores: [Double], colour: ColourError) {
        self.fd = fd
        self.inceptionScores = inceptionScores
        self.inceptionScore = Statistics.mean(inceptionScores)
        self.colourErrorShape = colour.shape
        self.colourErrorBackground = colour.background
        self.colourError = colour.mean
    }
}

/// Computes `DistributionReport`s. The reference for the Frechet distance is `perPrompt` clean
/// renders of every distinct prompt, from one fixed stream (`RandomStream(seed:stream:
/// referenceStream)`, prompt-major), so every model is compared against the same images;
/// compute it once with `reference(...)` and pass it to each model's `report`.
public enum DistributionMetrics {
    /// The stream id of the reference renders ("refr").
    public static let referenceStream: UInt64 = 0x7265_6672
    /// Clean reference renders per prompt when not given (the evaluation's 8 images a prompt).
    public static let defaultReferencePerPrompt = 8

    /// The distinct prompts of `prompts`, in order of first appearance.
    public static func distinct(_ prompts: [ShapesPrompt]) -> [ShapesPrompt] {
        var seen = Set<Int>()
        return prompts.filter { seen.insert($0.index).inserted }
    }

    /// `perPrompt` clean renders of each prompt at `size` pixels, prompt-major, from
    /// `RandomStream(seed: seed, stream: referenceStream)`: (N, 3, S, S) with N = prompts x perPrompt.
    public static func referenceImages(prompts: [ShapesPrompt], perPrompt k: Int, size s: Int, seed: UInt64) -> [Float] {
        let renderer = ShapesRenderer(size: s), count = renderer.imageCount
        var rng = RandomStream(seed: seed, stream: referenceStream)
        var images = [Float](repeating: 0, count: prompts.count * k * count)
        images.withUnsafeMutableBufferPointer { buffer in
            for (i, prompt) in prompts.enumerated() {
                for j in 0..<k { renderer.render(prompt, rng: &rng, into: buffer.baseAddress! + (i * k + j) * count) }
            }
        }
        return images
    }

    /// The feature moments of the reference renders (`referenceImages`) of the distinct
    /// prompts of `prompts`. Needs at least 2 images in all.
    public static func reference(prompts: [ShapesPrompt], perPrompt k: Int = defaultReferencePerPrompt, size s: Int,
                                 classifier: AlignClassifier, seed: UInt64) -> FrechetDistance.Moments {
        let unique = distinct(prompts)
        let images = referenceImages(prompts: unique, perPrompt: k, size: s, seed: seed)
        let n = unique.count * k
        let features = images.withUnsafeBufferPointer { classifier.features($0.baseAddress!, count: n, size: s) }
        return FrechetDistance.moments(features, count: n, dimension: classifier.featureCount)
    }

    /// images: (N, 3, S, S) in model units (N = prompts.count >= 2, one prompt each) against a
    /// reference from `reference(...)`.
    public static func report(images: [Float], prompts: [ShapesPrompt], size s: Int, classifier: AlignClassifier,
                              reference: FrechetDistance.Moments) throws -> DistributionReport {
        let n = prompts.count
        precondition(images.count == n * 3 * s * s,
                     "DistributionMetrics: \(images.count) values are not \(n) images of 3 x \(s) x \(s)")
        precondition(n >= 2, "DistributionMetrics: a Frechet distance needs at least 2 images, got \(n)")
        precondition(reference.dimension == classifier.featureCount,
                     "DistributionMetrics: reference of dimension \(reference.dimension), classifier features \(classifier.featureCount)")
        let outputs = images.withUnsafeBufferPointer { classifier.outputs($0.baseAddress!, count: n, size: s) }
        let moments = FrechetDistance.moments(outputs.features, count: n, dimension: classifier.featureCount)
        let fd = try FrechetDistance.distance(moments, reference)
        let scores = InceptionScore.perAttribute(outputs.probabilities, count: n)
        let colour = ColourError.measure(images, prompts: prompts, size: s)
        return DistributionReport(fd: fd, inceptionScores: scores, colour: colour)
    }

    /// `report` with the reference computed here: `perPrompt` clean renders of each distinct
    /// prompt from stream `seed`.
    public static func report(images: [Float], prompts: [ShapesPrompt], size s: Int, classifier: AlignClassifier,
                              referencePerPrompt k: Int = defaultReferencePerPrompt, seed: UInt64) throws -> DistributionReport {
        let ref = reference(prompts: prompts, perPrompt: k, size: s, classifier: classifier, seed: seed)
        return try report(images: images, prompts: prompts, size: s, classifier: classifier, reference: ref)
    }
}
