import Foundation

/// Everything random about one image of the `shapes` world, drawn from a `RandomStream`;
/// `ShapesRenderer.rasterise` turns it into pixels without drawing anything more, so the scene
/// is also the ground truth (where the shape is, which colours were used) that tests and
/// evaluation can check images against.
///
/// The clean parameters are drawn first, in a fixed order, and the defect's own parameters
/// after them: two scenes drawn from copies of one stream with different defects are twins
/// (same placement, colours and texture) that differ only by the defect.
public struct ShapesScene: Sendable, Equatable {
    public let prompt: ShapesPrompt
    public let defect: Defect?
    public let size: Int
    /// The shape's colour as drawn (jittered; another palette colour for `wrongColour`), model units.
    public var shapeColour: SIMD3<Float>
    /// The background's colour before texture (jittered), model units.
    public var backgroundColour: SIMD3<Float>
    public var primary: ShapeInstance
    /// The second copy of a `duplicated` scene.
    public var duplicate: ShapeInstance?
    /// Background texture: a 4x4 grid of offsets (model units, added to every channel) whose
    /// nodes sit at 0, S/3, 2S/3 and S and are interpolated with smoothstep weights.
    public var texture: SIMD16<Float>
    /// Gaussian blur sigma in pixels; 0 for no blur.
    public var blurSigma: Float
    /// Additive noise sigma in model units; 0 for no noise.
    public var noiseSigma: Float
    /// Seeds the noise stream, so rasterising needs no generator.
    public var noiseSeed: UInt64

    /// Hue jitter, degrees either way; rotates the colour about the gray axis.
    public static let hueJitter: Float = 6
    /// Brightness jitter of the shape colour, a factor 1 +- this.
    public static let brightnessJitter: Float = 0.08
    /// Background brightness jitter, +- this in [0, 1] units.
    public static let backgroundJitter: Float = 0.03
    /// Standard deviation of the texture grid's nodes in model units (about 4 of 255).
    public static let textureSigma: Float = 0.03
    /// Rotation jitter, degrees either way: small enough that a square never looks like a
    /// diamond (45 degrees apart).
    public static let rotationJitter: Float = 15
    /// A clean shape's bounding box keeps this many pixels from every edge, so the border
    /// pixels are background (coverage 0 half a pixel outside the outline).
    public static let margin: Float = 1

    /// Draws a scene of `prompt` at `size` x `size` with `defect` (nil for a clean image).
    public init(prompt: ShapesPrompt, defect: Defect? = nil, size: Int, rng: inout RandomStream) {
        precondition((8...64).contains(size), "the shapes world renders 8...64 pixels, not \(size)")
        self.prompt = prompt
        self.defect = defect
        self.size = size
        let s = Float(size)
        func uniform(_ r: ClosedRange<Float>) -> Float { r.lowerBound + (r.upperBound - r.lowerBound) * rng.uniform() }
        func symmetric(_ a: Float) -> Float { (2 * rng.uniform() - 1) * a }

        // 1. colours
        let hue = symmetric(Self.hueJitter) * .pi / 180
        let brightness = 1 + symmetric(Self.brightnessJitter)
        let backgroundShift = symmetric(Self.backgroundJitter)
        shapeColour = Self.jittered(prompt.colour.rgb, hue: hue, brightness: brightness)
        let bg = SIMD3<Float>(prompt.background.rgb) / 255 + backgroundShift
        backgroundColour = bg.clamped(lowerBound: .zero, upperBound: .one) * 2 - 1

        // 2. geometry: scale, rotation, then a centre that keeps the box `margin` inside
        var r = uniform(prompt.size.radiusFraction) * s
        let rotation = symmetric(Self.rotationJitter) * .pi / 180
        var shape = ShapeInstance(kind: prompt.shape, centreX: 0, centreY: 0, radius: r, rotation: rotation)
        let room = s / 2 - Self.margin
        let e = shape.halfExtent
        if max(e.x, e.y) > room {  // only at the smallest sizes
            r *= room / max(e.x, e.y)
            shape = shape.resized(to: r)
        }
        let ux = rng.uniform(), uy = rng.uniform()
        primary = Self.placed(shape, size: s, ux, uy)

        // 3. texture and the noise seed
        var grid = SIMD16<Float>()
        for i in 0..<16 { grid[i] = rng.normal() * Self.textureSigma }
        texture = grid
        noiseSeed = rng.next()
        duplicate = nil
        blurSigma = 0
        noiseSigma = 0

        // 4. the defect, drawn last
        switch defect {
        case nil:
            break
        case .blur:
            blurSigma = uniform(Defect.blurSigma) * s / 16
        case .noise:
            noiseSigma = uniform(Defect.noiseSigma)
        case .wrongColour:
            let others = Self.wrongColours[prompt.colour.rawValue]
            shapeColour = Self.jittered(others[rng.int(below: others.count)].rgb, hue: hue, brightness: brightness)
        case .lowContrast:
            // The shape fades most of the way, the background takes a fifth of the closing:
            // a washed-out image whose background is still nameable.
            let kept = uniform(Defect.contrastKept)
            let a = shapeColour, b = backgroundColour, close = 1 - kept
            shapeColour = a + 0.8 * close * (b - a)
            backgroundColour = b + 0.2 * close * (a - b)
        case .cutByBorder:
            primary = Self.cut(primary, size: s, side: rng.int(below: 4), fraction: uniform(Defect.cutFraction))
        case .duplicated:
            let pair = Self.duplicatePair(primary, size: s, rng: &rng)
            primary = pair.0
            duplicate = pair.1
        }
    }

    /// Union coverage of the scene's shapes at the pixel centred at (x, y).
    @inlinable
    public func coverage(x: Float, y: Float) -> Float {
        let c = primary.coverage(x: x, y: y)
        guard let d = duplicate else { return c }
        return max(c, d.coverage(x: x, y: y))
    }

    // MARK: drawing helpers

    /// Per colour, the palette colours at least `Defect.wrongColourDistance` away from it.
    static let wrongColours: [[ShapeColour]] = ShapeColour.allCases.map { colour in
        ShapeColour.allCases.filter {
            let d = SIMD3<Float>($0.rgb) - SIMD3<Float>(colour.rgb)
            return (d * d).sum().squareRoot() >= Defect.wrongColourDistance
        }
    }

    /// The colour `rgb` rotated by `hue` radians about the gray axis (Rodrigues' rotation, the
    /// classic hue-rotation matrix) and scaled by `brightness`, clamped, in model units.
    static func jittered(_ rgb: SIMD3<UInt8>, hue: Float, brightness: Float) -> SIMD3<Float> {
        let c = SIMD3<Float>(rgb) / 255
        let cosA = Foundation.cos(hue), sinA = Foundation.sin(hue)
        let a = cosA + (1 - cosA) / 3
        let b = (1 - cosA) / 3 - (1.0 / 3).squareRoot() * sinA
        let d = (1 - cosA) / 3 + (1.0 / 3).squareRoot() * sinA
        let rotated = SIMD3<Float>(a * c.x + b * c.y + d * c.z, d * c.x + a * c.y + b * c.z, b * c.x + d * c.y + a * c.z)
        return (rotated * brightness).clamped(lowerBound: .zero, upperBound: .one) * 2 - 1
    }

    /// `shape` with its centre at the uniforms (ux, uy) of the range that keeps its bounding
    /// box `margin` inside the frame.
    static func placed(_ shape: ShapeInstance, size s: Float, _ ux: Float, _ uy: Float) -> ShapeInstance {
        let e = shape.halfExtent
        let lx = e.x + margin, ly = e.y + margin
        return shape.moved(toX: lx + max(s - 2 * lx, 0) * ux, y: ly + max(s - 2 * ly, 0) * uy)
    }

    /// `shape` moved across one side (0 left, 1 right, 2 top, 3 bottom) until `fraction` of
    /// its area lies outside the frame; the other coordinate is kept.
    ///
    /// The area profile along the axis comes from a 48 x 48 point sample of the shape's box.
    static func cut(_ shape: ShapeInstance, size s: Float, side: Int, fraction: Float) -> ShapeInstance {
        let n = 48
        let e = shape.halfExtent
        let horizontal = side < 2, far = side % 2 == 1
        let along = horizontal ? e.x : e.y, across = horizontal ? e.y : e.x
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { counts in
            var total: Float = 0
            for i in 0..<n {
                // bin i covers [-along + i h, -along + (i+1) h), counted from the side that leaves
                let t = -along + (Float(i) + 0.5) * 2 * along / Float(n)
                let a = far ? -t : t
                var inside: Float = 0
                for j in 0..<n {
                    let u = -across + (Float(j) + 0.5) * 2 * across / Float(n)
                    let x = shape.centreX + (horizontal ? a : u), y = shape.centreY + (horizontal ? u : a)
                    if shape.signedDistance(x: x, y: y) < 0 { inside += 1 }
                }
                counts[i] = inside
                total += inside
            }
            // depth: how far (in pixels, from the leading edge) the frame edge must cut in
            var depth = 2 * along, cumulative: Float = 0
            let target = fraction * total, h = 2 * along / Float(n)
            for i in 0..<n {
                if cumulative + counts[i] >= target {
                    depth = (Float(i) + (target - cumulative) / max(counts[i], 1)) * h
                    break
                }
                cumulative += counts[i]
            }
            // the leading edge sits `depth` beyond the frame edge
            switch side {
            case 0: return shape.moved(toX: along - depth, y: shape.centreY)
            case 1: return shape.moved(toX: s - along + depth, y: shape.centreY)
            case 2: return shape.moved(toX: shape.centreX, y: along - depth)
            default: return shape.moved(toX: shape.centreX, y: s - along + depth)
            }
        }
    }

    /// Places `shape` and a smaller or equal copy with `Defect.duplicateGap` pixels between
    /// their circumcircles, both inside the frame (their boxes `margin` from the edges).
    ///
    /// Round 0 keeps `shape` where it is and sends the copy along a random direction, at a
    /// random distance the frame allows. Each later round shrinks both by 10% (not below the
    /// smallest small radius for the first 10 rounds, where a ring's band would fall under 1.5
    /// pixels at 16x16), then lays the pair along a random direction with a random midpoint
    /// among those that keep both inside. 8 directions a round.
    static func duplicatePair(_ shape: ShapeInstance, size s: Float,
                              rng: inout RandomStream) -> (ShapeInstance, ShapeInstance) {
        let k = Defect.duplicateScale.lowerBound
            + (Defect.duplicateScale.upperBound - Defect.duplicateScale.lowerBound) * rng.uniform()
        let copyRotation = (2 * rng.uniform() - 1) * rotationJitter * .pi / 180
        let smallest = min(shape.radius, ShapeSize.small.radiusFraction.lowerBound * s)
        var scale: Float = 1
        for round in 0..<24 {
            let floor = round < 10 ? smallest : 0
            let r1 = max(shape.radius * scale, floor)
            let first = round == 0 ? shape : shape.resized(to: r1)
            let copy = ShapeInstance(kind: shape.kind, centreX: 0, centreY: 0,
                                     radius: max(r1 * k, min(r1, floor)), rotation: copyRotation)
            let box1 = centreBox(first, size: s), box2 = centreBox(copy, size: s)
            let a = first.circumradius + Defect.duplicateGap / 2, b = copy.circumradius + Defect.duplicateGap / 2
            for _ in 0..<8 {
                let angle = 2 * Float.pi * rng.uniform()
                let u = SIMD2<Float>(Foundation.cos(angle), Foundation.sin(angle))
                let pick = rng.uniform(), pick2 = rng.uniform()
                if round == 0 {
                    // the copy at c1 + t u, t >= a + b, inside box2
                    let c1 = SIMD2<Float>(first.centreX, first.centreY)
                    guard let range = rayInBox(from: c1, direction: u, box: box2), range.upperBound >= a + b else { continue }
                    let t = max(range.lowerBound, a + b) + (range.upperBound - max(range.lowerBound, a + b)) * pick
                    return (first, copy.moved(toX: c1.x + t * u.x, y: c1.y + t * u.y))
                }
                // midpoint m with m - a u in box1 and m + b u in box2; a random point of the
                // segment of that box along a random line
                let lo = SIMD2<Float>(max(box1.lo.x + a * u.x, box2.lo.x - b * u.x), max(box1.lo.y + a * u.y, box2.lo.y - b * u.y))
                let hi = SIMD2<Float>(min(box1.hi.x + a * u.x, box2.hi.x - b * u.x), min(box1.hi.y + a * u.y, box2.hi.y - b * u.y))
                guard lo.x <= hi.x, lo.y <= hi.y else { continue }
                let m = lo + (hi - lo) * SIMD2<Float>(pick, pick2)
                return (first.moved(toX: m.x - a * u.x, y: m.y - a * u.y), copy.moved(toX: m.x + b * u.x, y: m.y + b * u.y))
            }
            scale *= 0.9
        }
        // Unreachable at 8...64 pixels (24 rounds shrink to 8%); opposite corners at a scale that fits.
        let r = shape.radius * s / (8 * shape.circumradius)
        let first = placed(shape.resized(to: r), size: s, 0, 0), second = placed(shape.resized(to: r), size: s, 1, 1)
        return (first, second)
    }

    /// The centres that keep `shape`'s box `margin` inside the frame (empty when lo > hi).
    static func centreBox(_ shape: ShapeInstance, size s: Float) -> (lo: SIMD2<Float>, hi: SIMD2<Float>) {
        let e = shape.halfExtent
        return (SIMD2(e.x + margin, e.y + margin), SIMD2(s - e.x - margin, s - e.y - margin))
    }

    /// The parameters t >= 0 for which `origin + t direction` lies in `box` (slab method).
    static func rayInBox(from origin: SIMD2<Float>, direction u: SIMD2<Float>,
                         box: (lo: SIMD2<Float>, hi: SIMD2<Float>)) -> ClosedRange<Float>? {
        var t0: Float = 0, t1 = Float.infinity
        for axis in 0..<2 {
            if abs(u[axis]) < 1e-6 {
                if origin[axis] < box.lo[axis] || origin[axis] > box.hi[axis] { return nil }
            } else {
                let a = (box.lo[axis] - origin[axis]) / u[axis], b = (box.hi[axis] - origin[axis]) / u[axis]
                t0 = max(t0, min(a, b))
                t1 = min(t1, max(a, b))
            }
        }
        return t0 <= t1 ? t0...t1 : nil
    }
}
