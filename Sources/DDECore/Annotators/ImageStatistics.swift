import Foundation

/// Written-out measurements of one image of the `shapes` world, the raw material of the
/// `aesthetic` and `pick` annotators. Nothing here is learned.
///
/// **Segmentation** (shape against background): 2-means on the pixels' RGB colours, seeded
/// with the prompt's nominal background colour and the pixel farthest from it, 8 Lloyd
/// iterations. The cluster holding most of the border ring is the background (so a background
/// that drifted from its nominal colour is still found). The cluster means include the
/// anti-aliased rim, so two refinement passes replace them by the pure colours: with the
/// current `b`, `f` and `t_i = <x_i - b, f - b> / |f - b|^2`, `f` becomes the mean of the
/// pixels weighted by `smoothstep(0.7, 1, t_i)` and `b` by `smoothstep(0.7, 1, 1 - t_i)`.
/// With the final `b`, `f`, `t_i` is the pixel's position on the background -> shape axis:
/// 0 on the background, 1 on the shape, its coverage in between (pixels mix linearly). The
/// shape membership is `m_i = smoothstep(0.1, 0.9, t_i)` and the hard label `t_i >= 1/2`.
///
/// **Measurements** (S the image side, pixels at their centres):
/// - `shapeColour`, `backgroundColour`: the refined `f` and `b`;
///   `contrast = |shapeColour - backgroundColour|`, model units.
/// - `edgeSharpness`: over the 4-neighbour pairs whose hard labels differ, the mean of
///   `|t_i - t_j|`: the share of the shape/background step taken in one pixel (high for the
///   renderer's one-pixel anti-aliasing, low under a Gaussian blur; numbers in
///   docs/ANNOTATORS.md).
/// - `noiseSigma`: `1.4826 median|r| / sqrt(5/4)` over the interior pixels whose 3x3
///   neighbourhood has one hard label, every channel, with `r = x - mean(4 neighbours)`:
///   the robust (MAD) estimate of i.i.d. pixel noise's sigma from the discrete Laplacian
///   residual, whose variance is `(1 + 1/4) sigma^2`. Flat regions only, so edges do not count
///   as noise; all interior pixels when fewer than 4 are flat.
/// - `borderMass`: `Σ m_i` over the pixels of the outermost ring: shape pixels on the frame.
/// - `area`: `Σ m_i`, pixels. `centroidOffset`: the m-weighted centroid's distance from the
///   image centre in units of S/2 (1 when there is no shape mass).
/// - `shapeChroma`: `max - min` of `shapeColour`'s channels in [0, 1] units (HSV chroma).
public struct ImageStatistics: Sendable, Equatable {
    public var shapeColour: SIMD3<Float>
    public var backgroundColour: SIMD3<Float>
    public var contrast: Float
    public var edgeSharpness: Float
    public var noiseSigma: Float
    public var borderMass: Float
    public var area: Float
    public var centroidOffset: Float
    public var shapeChroma: Float

    /// Lloyd iterations of the 2-means segmentation.
    public static let iterations = 8
    /// Passes that move the two colours from the cluster means to the pure colours.
    public static let refinements = 2

    /// image: (3, S, S) in model units; `nominalBackground` seeds the background cluster.
    public init(image: UnsafePointer<Float>, size s: Int, nominalBackground: SIMD3<Float>) {
        let count = s * s
        var pixels = [SIMD3<Float>](repeating: .zero, count: count)
        for i in 0..<count { pixels[i] = SIMD3(image[i], image[count + i], image[2 * count + i]) }

        // 2-means, seeded by the nominal background and the pixel farthest from it.
        var b = nominalBackground, f = nominalBackground, farthest: Float = -1
        for p in pixels where squaredLength(p - b) > farthest { farthest = squaredLength(p - b); f = p }
        var label = [Bool](repeating: false, count: count)  // true: shape cluster
        for _ in 0..<Self.iterations {
            var sumF = SIMD3<Float>(), sumB = SIMD3<Float>(), nF = 0, nB = 0
            for (i, p) in pixels.enumerated() {
                label[i] = squaredLength(p - f) < squaredLength(p - b)
                if label[i] { sumF += p; nF += 1 } else { sumB += p; nB += 1 }
            }
            if nF > 0 { f = sumF / Float(nF) }
            if nB > 0 { b = sumB / Float(nB) }
        }
        // The background is the cluster most of the border ring belongs to.
        var borderShape = 0, borderCount = 0
        for y in 0..<s {
            for x in 0..<s where x == 0 || y == 0 || x == s - 1 || y == s - 1 {
                borderCount += 1
                if label[y * s + x] { borderShape += 1 }
            }
        }
        if 2 * borderShape > borderCount { swap(&b, &f) }

        // Refine both colours towards the pure ones: the cluster means include the anti-aliased
        // rim (a small triangle's mean is a third background), so average only the pixels at or
        // beyond the current mean along the axis, twice.
        for _ in 0..<Self.refinements {
            let u = f - b, u2 = squaredLength(u)
            guard u2 > 1e-12 else { break }
            var sumF = SIMD3<Float>(), sumB = SIMD3<Float>(), wF: Float = 0, wB: Float = 0
            for p in pixels {
                let t = ((p - b) * u).sum() / u2
                let a = Self.smoothstep(0.7, 1, t), c = Self.smoothstep(0.7, 1, 1 - t)
                sumF += a * p; wF += a
                sumB += c * p; wB += c
            }
            if wF > 0 { f = sumF / wF }
            if wB > 0 { b = sumB / wB }
        }
        shapeColour = f
        backgroundColour = b
        contrast = squaredLength(f - b).squareRoot()

        // Position along the background -> shape axis (the coverage, for linear mixing), and
        // membership.
        let u = f - b, u2 = squaredLength(u)
        var t = [Float](repeating: 0, count: count), m = [Float](repeating: 0, count: count)
        if u2 > 1e-12 {
            for i in 0..<count {
                t[i] = ((pixels[i] - b) * u).sum() / u2
                m[i] = Self.smoothstep(0.1, 0.9, t[i])
            }
        }
        let rgb = (shapeColour + 1) / 2
        shapeChroma = rgb.max() - rgb.min()

        // Area, centroid, border mass.
        var mass: Float = 0, mx: Float = 0, my: Float = 0, border: Float = 0
        for y in 0..<s {
            for x in 0..<s {
                let w = m[y * s + x]
                mass += w
                mx += w * (Float(x) + 0.5)
                my += w * (Float(y) + 0.5)
                if x == 0 || y == 0 || x == s - 1 || y == s - 1 { border += w }
            }
        }
        area = mass
        borderMass = border
        let half = Float(s) / 2
        if mass > 0.5 {
            let dx = mx / mass - half, dy = my / mass - half
            centroidOffset = (dx * dx + dy * dy).squareRoot() / half
        } else {
            centroidOffset = 1
        }

        // Edge sharpness: the step in t across each boundary pair.
        let hard = t.map { $0 >= 0.5 }
        var stepSum: Float = 0, pairs = 0
        for y in 0..<s {
            for x in 0..<s {
                let i = y * s + x
                if x + 1 < s, hard[i] != hard[i + 1] { stepSum += abs(t[i] - t[i + 1]); pairs += 1 }
                if y + 1 < s, hard[i] != hard[i + s] { stepSum += abs(t[i] - t[i + s]); pairs += 1 }
            }
        }
        edgeSharpness = pairs > 0 ? stepSum / Float(pairs) : 0

        // Noise: robust sigma of the Laplacian residual in flat regions.
        var flat: [Float] = [], all: [Float] = []
        if s >= 3 {
            for y in 1..<(s - 1) {
                for x in 1..<(s - 1) {
                    let i = y * s + x
                    var same = true
                    for dy in -1...1 {
                        for dx in -1...1 where hard[i + dy * s + dx] != hard[i] { same = false }
                    }
                    let r = pixels[i] - (pixels[i - 1] + pixels[i + 1] + pixels[i - s] + pixels[i + s]) / 4
                    for c in 0..<3 {
                        all.append(abs(r[c]))
                        if same { flat.append(abs(r[c])) }
                    }
                }
            }
        }
        let residuals = flat.count >= 12 ? flat : all
        noiseSigma = residuals.isEmpty ? 0 : 1.4826 * Self.median(residuals) / Float(1.25).squareRoot()
    }

    /// `image` (3, S, S) measured with the background of `prompt` as the seed.
    public init(image: UnsafePointer<Float>, size: Int, prompt: ShapesPrompt) {
        self.init(image: image, size: size, nominalBackground: prompt.background.value)
    }

    /// 0 below `lo`, 1 above `hi`, `3v^2 - 2v^3` between (v the position in [lo, hi]).
    static func smoothstep(_ lo: Float, _ hi: Float, _ x: Float) -> Float {
        let v = min(max((x - lo) / (hi - lo), 0), 1)
        return v * v * (3 - 2 * v)
    }

    /// The median (the mean of the two middle values for an even count).
    static func median(_ values: [Float]) -> Float {
        let sorted = values.sorted(), n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

@inline(__always)
private func squaredLength(_ v: SIMD3<Float>) -> Float { (v * v).sum() }

/// The logistic function `1 / (1 + exp(-x))`, in Double: the annotators' smooth map of a raw
/// statistic to (0, 1).
@inline(__always)
func logistic(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
