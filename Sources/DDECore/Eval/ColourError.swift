import Foundation

/// The colour-fidelity figure of the evaluation (testbed.md, Evaluation): how far an image's
/// shape and background colours lie from its prompt's nominal ones. A prototype showed
/// DPO-style fine-tunes turning gray backgrounds beige while every annotator approved; this is
/// the number that shows it.
///
/// Per image, `ImageStatistics` (seeded with the prompt's nominal background) measures the
/// shape colour `f` and background colour `b`; the errors are the Euclidean RGB distances
/// `|f - ShapeColour.value|` and `|b - BackgroundColour.value|`, reported in **sRGB byte units
/// (0-255 per channel)**, i.e. model-unit distance x 127.5, the unit the palette is designed in
/// (colours >= 98 apart, `Defect.wrongColourDistance` = 140). Clean renders stay small (the
/// renderer's hue and brightness jitter and the texture: about 10-20); a wrong colour is 100+.
public struct ColourError: Sendable, Equatable {
    /// Mean over images of the shape colour's distance from the nominal one, RGB units.
    public var shape: Double
    /// Mean over images of the background colour's distance from the nominal one, RGB units.
    public var background: Double
    /// `(shape + background) / 2`.
    public var mean: Double { (shape + background) / 2 }

    public init(shape: Double, background: Double) {
        self.shape = shape
        self.background = background
    }

    /// Model units to sRGB byte units: `x = byte / 127.5 - 1`.
    public static let rgbPerModelUnit: Double = 127.5

    /// One image (3, S, S) in model units against its prompt -> (shape, background) distances in
    /// RGB units.
    public static func distances(_ image: UnsafePointer<Float>, size s: Int, prompt: ShapesPrompt) -> (shape: Double, background: Double) {
        let stats = ImageStatistics(image: image, size: s, prompt: prompt)
        return (distance(stats.shapeColour, prompt.colour.value), distance(stats.backgroundColour, prompt.background.value))
    }

    /// images: (N, 3, S, S) in model units, one prompt each -> the mean distances. Zero for no
    /// images.
    public static func measure(_ images: UnsafePointer<Float>, prompts: [ShapesPrompt], size s: Int) -> ColourError {
        guard !prompts.isEmpty else { return ColourError(shape: 0, background: 0) }
        var shape = 0.0, background = 0.0
        for (i, prompt) in prompts.enumerated() {
            let d = distances(images + i * 3 * s * s, size: s, prompt: prompt)
            shape += d.shape
            background += d.background
        }
        return ColourError(shape: shape / Double(prompts.count), background: background / Double(prompts.count))
    }

    /// `measure` over a flat array of `prompts.count` images.
    public static func measure(_ images: [Float], prompts: [ShapesPrompt], size s: Int) -> ColourError {
        precondition(images.count == prompts.count * 3 * s * s,
                     "ColourError: \(images.count) values are not \(prompts.count) images of 3 x \(s) x \(s)")
        return images.withUnsafeBufferPointer { measure($0.baseAddress!, prompts: prompts, size: s) }
    }

    static func distance(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Double {
        let d = SIMD3<Double>(a) - SIMD3<Double>(b)
        return (d * d).sum().squareRoot() * rgbPerModelUnit
    }
}
