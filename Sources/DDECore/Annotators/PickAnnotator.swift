import Foundation

/// The `pick` annotator (the testbed's PickScore analog): an overall judgement. It takes a
/// share of the other two and adds tastes of its own, so it agrees with each only in part:
///
///     q_saturation = σ((shapeChroma - 0.4) / 0.1)              a vivid shape colour
///     q_centre     = σ((0.3 - centroidOffset) / 0.08)          the shape near the middle
///     q_size       = exp(-(ln(r / r_prompt))^2 / (2 · 0.15^2)) the size the prompt asked for
///
///     pick = align^0.3 · aesthetic^0.25 · q_saturation^0.15 · q_centre^0.15 · q_size^0.15
///
/// with `σ(x) = 1 / (1 + e^-x)`, `r = sqrt(area / A_kind) / S` the radius (as a share of the
/// side) a shape of the prompt's kind with the measured area would have (`A_kind` its area at
/// radius 1: circle π, ring 3π/4, square 2.89, ...), and `r_prompt` the middle of the prompt
/// size's radius range (small 0.215, large 0.365). `ImageStatistics` gives the measurements.
public final class PickAnnotator: ShapesAnnotator, @unchecked Sendable {
    public let name = "pick"

    /// A formula over the other two: the align classifier's weights stand for it.
    public var contentDigest: ContentDigest {
        var d = align.contentDigest
        d.add("pick formula")
        return d
    }
    public let align: AlignAnnotator
    public let aesthetic: AestheticAnnotator

    public init(align: AlignAnnotator, aesthetic: AestheticAnnotator = AestheticAnnotator()) {
        self.align = align
        self.aesthetic = aesthetic
    }

    /// Pick's own three factors, each in (0, 1]: saturation, centre, size.
    public static func ownFactors(_ m: ImageStatistics, prompt: ShapesPrompt, size s: Int) -> [Double] {
        let saturation = logistic((Double(m.shapeChroma) - 0.4) / 0.1)
        let centre = logistic((0.3 - Double(m.centroidOffset)) / 0.08)
        let r = (Double(m.area) / unitArea(prompt.shape)).squareRoot() / Double(s)
        let range = prompt.size.radiusFraction
        let target = Double(range.lowerBound + range.upperBound) / 2
        let z = Foundation.log(max(r, 1e-6) / target) / 0.15
        return [saturation, centre, Foundation.exp(-z * z / 2)]
    }

    /// The weights of align, aesthetic, saturation, centre, size.
    static let weights = [0.3, 0.25, 0.15, 0.15, 0.15]

    /// The score from the other two annotators' scores and the image's measurements.
    public static func score(align: Double, aesthetic: Double, _ m: ImageStatistics, prompt: ShapesPrompt, size s: Int) -> Double {
        let q = [align, aesthetic] + ownFactors(m, prompt: prompt, size: s)
        var log = 0.0
        for (v, w) in zip(q, weights) { log += w * Foundation.log(max(v, 1e-300)) }
        return Foundation.exp(log)
    }

    public func scores(images: UnsafePointer<Float>, prompts: [ShapesPrompt], count: Int, size: Int) -> [Double] {
        precondition(prompts.count == count, "pick: \(count) images but \(prompts.count) prompts")
        let alignScores = align.scores(images: images, prompts: prompts, count: count, size: size)
        return prompts.enumerated().map { i, prompt in
            let m = ImageStatistics(image: images + i * 3 * size * size, size: size, prompt: prompt)
            return Self.score(align: alignScores[i], aesthetic: AestheticAnnotator.score(m), m, prompt: prompt, size: size)
        }
    }

    /// The area of `kind` at scale radius 1 (its unit geometry, `ShapeInstance`).
    static func unitArea(_ kind: ShapeKind) -> Double {
        switch kind {
        case .circle: return Double.pi
        case .ring: return Double.pi * (1 - Double(ShapeInstance.ringHole * ShapeInstance.ringHole))
        case .square: return Double(4 * ShapeInstance.squareHalf * ShapeInstance.squareHalf)
        case .diamond: return Double(2 * ShapeInstance.diamondHalf.x * ShapeInstance.diamondHalf.y)
        case .triangle:
            let b = Double(ShapeInstance.triangleHalfBase)
            return b * b * 3.0.squareRoot()  // base 2b, height b sqrt(3)
        case .cross:
            let l = Double(ShapeInstance.crossHalfLength), k = Double(ShapeInstance.crossHalfThickness)
            return 2 * (2 * l) * (2 * k) - (2 * k) * (2 * k)
        }
    }
}
