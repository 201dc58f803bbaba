import Foundation

/// The `aesthetic` annotator (the testbed's HPS analog): is this a clean picture? Written-out
/// image statistics (`ImageStatistics`), no learning, no look at what the prompt asks for
/// beyond its background colour, which seeds the segmentation:
///
///     q_sharp    = σ((edgeSharpness - 0.58) / 0.07)      edges taken in one pixel, not blurred
///     q_noise    = σ((0.06 - noiseSigma) / 0.015)        flat regions stay flat
///     q_contrast = σ((contrast - 1.2) / 0.5)             shape stands out (model units, 0...3.5)
///     q_frame    = σ((1 - borderMass) / 0.4)             no shape pixels on the border
///
///     aesthetic  = q_sharp^0.3 · q_noise^0.2 · q_contrast^0.3 · q_frame^0.2
///
/// with `σ(x) = 1 / (1 + e^-x)`. A weighted geometric mean, so one bad property pulls the
/// score down whatever the others. The maps are logistic, not clamps, and `q_contrast` keeps
/// rising over the palette's whole range, so clean renders do not all tie at 1 (16 px: mean
/// 0.78, 10th-90th percentile 0.68-0.88; blur 0.28, noise 0.26, lowContrast 0.51, cutByBorder
/// 0.06; docs/ANNOTATORS.md).
public struct AestheticAnnotator: ShapesAnnotator {
    public let name = "aesthetic"

    public init() {}

    /// A formula with no weights: its name stands for it.
    public var contentDigest: ContentDigest {
        var d = ContentDigest()
        d.add("aesthetic formula")
        return d
    }

    /// The four factors, each in (0, 1), in the order sharp, noise, contrast, frame.
    public static func factors(_ m: ImageStatistics) -> [Double] {
        [logistic((Double(m.edgeSharpness) - 0.58) / 0.07),
         logistic((0.06 - Double(m.noiseSigma)) / 0.015),
         logistic((Double(m.contrast) - 1.2) / 0.5),
         logistic((1 - Double(m.borderMass)) / 0.4)]
    }

    static let weights = [0.3, 0.2, 0.3, 0.2]

    /// The score of one measured image.
    public static func score(_ m: ImageStatistics) -> Double {
        var log = 0.0
        for (q, w) in zip(factors(m), weights) { log += w * Foundation.log(max(q, 1e-300)) }
        return Foundation.exp(log)
    }

    public func scores(images: UnsafePointer<Float>, prompts: [ShapesPrompt], count: Int, size: Int) -> [Double] {
        precondition(prompts.count == count, "aesthetic: \(count) images but \(prompts.count) prompts")
        return prompts.enumerated().map { i, prompt in
            Self.score(ImageStatistics(image: images + i * 3 * size * size, size: size, prompt: prompt))
        }
    }
}
