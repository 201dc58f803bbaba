import Foundation

/// The defects a share of the pretraining images carries (the testbed's analog of LAION's bad
/// images), each aimed at one statistic a later annotator reads. Every parameter range below is
/// what `ShapesScene` draws from; all of them stay visible at 16x16.
public enum Defect: String, CaseIterable, Sendable, Codable {
    /// A Gaussian blur of sigma `blurSigma` x size/16 pixels (about one pixel at 16x16): lowers
    /// sharpness (gradient energy).
    case blur
    /// Additive Gaussian pixel noise of sigma `noiseSigma` in model units, independent per
    /// channel: raises high-frequency energy.
    case noise
    /// The shape drawn in another palette colour, one at least `wrongColourDistance` RGB units
    /// from the prompted one (with the same jitter): moves the shape's mean colour away from the
    /// nominal one.
    case wrongColour
    /// The centre moved towards one side so that a share `cutFraction` of the shape's area falls
    /// outside the frame: shape pixels on the border.
    case cutByBorder
    /// Shape and background colours blended towards each other (the shape four fifths of the
    /// way, the background one fifth) so that their difference keeps a share `contrastKept`:
    /// lowers shape/background contrast.
    case lowContrast
    /// A second copy of the shape (scale `duplicateScale` x the first, but not below the
    /// smallest small radius), with at least `duplicateGap` pixels between the two circumcircles:
    /// two connected components. Both copies shrink (down to that floor) when they cannot fit
    /// side by side at full size.
    case duplicated

    public static let blurSigma: ClosedRange<Float> = 0.8...1.1
    public static let noiseSigma: ClosedRange<Float> = 0.12...0.18
    public static let wrongColourDistance: Float = 140
    public static let cutFraction: ClosedRange<Float> = 0.3...0.5
    public static let contrastKept: ClosedRange<Float> = 0.2...0.3
    public static let duplicateScale: ClosedRange<Float> = 0.6...1.0
    public static let duplicateGap: Float = 2.5

    /// The defect's name as configs and reports spell it.
    public var name: String { rawValue }

    // MARK: image-space defects

    /// In-place separable Gaussian blur of one (S, S) plane, edges clamped. Taps reach 2.5 sigma.
    static func gaussianBlur(_ plane: UnsafeMutablePointer<Float>, size s: Int, sigma: Float) {
        let reach = max(1, Int((2.5 * sigma).rounded(.up)))
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * reach + 1 + s) { scratch in
            let taps = scratch.baseAddress!, line = taps + 2 * reach + 1
            var total: Float = 0
            for k in -reach...reach {
                let w = Foundation.exp(-Float(k * k) / (2 * sigma * sigma))
                taps[k + reach] = w
                total += w
            }
            for k in 0...(2 * reach) { taps[k] /= total }
            // rows, then columns; `line` holds the unblurred copy of the current row or column
            for pass in 0..<2 {
                let step = pass == 0 ? 1 : s, next = pass == 0 ? s : 1
                for r in 0..<s {
                    let base = plane + r * next
                    for i in 0..<s { line[i] = base[i * step] }
                    for i in 0..<s {
                        var acc: Float = 0
                        for k in -reach...reach { acc += taps[k + reach] * line[min(max(i + k, 0), s - 1)] }
                        base[i * step] = acc
                    }
                }
            }
        }
    }

    /// Adds `sigma` x standard normal noise from `rng` to `count` values.
    static func addNoise(_ p: UnsafeMutablePointer<Float>, count: Int, sigma: Float, rng: inout RandomStream) {
        for i in 0..<count { p[i] += sigma * rng.normal() }
    }
}
