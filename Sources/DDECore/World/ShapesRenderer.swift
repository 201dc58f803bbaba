/// Renders `shapes` prompts to images: a Float CHW array in the diffusion model's units,
/// `x = byte / 127.5 - 1` in [-1, 1], or an 8-bit `RGBImage`.
///
/// Rendering draws a `ShapesScene` from the stream (all the randomness) and rasterises it:
/// per pixel, background plus texture, the shape composited over it with its anti-aliased
/// coverage (`ShapeInstance.coverage`, a one-pixel linear ramp on the exact signed distance),
/// then the image-space defect (blur or noise), then a clamp to [-1, 1]. One distance
/// evaluation a pixel and no allocation: a batch of 128 images at 16x16 takes about a
/// millisecond on one core.
public struct ShapesRenderer: Sendable {
    /// The image side in pixels, 8...64 (16 the default, 32 the large setting).
    public let size: Int

    public init(size: Int = 16) {
        precondition((8...64).contains(size), "the shapes world renders 8...64 pixels, not \(size)")
        self.size = size
    }

    /// Floats in one image, `3 * size * size`.
    public var imageCount: Int { 3 * size * size }

    /// Draws a scene of `prompt` (with `defect`, or clean) from `rng` and writes it to `out`.
    ///
    /// out: (3, S, S), model units in [-1, 1]. Deterministic in the stream's state.
    @discardableResult
    public func render(_ prompt: ShapesPrompt, defect: Defect? = nil, rng: inout RandomStream,
                       into out: UnsafeMutablePointer<Float>) -> ShapesScene {
        let scene = ShapesScene(prompt: prompt, defect: defect, size: size, rng: &rng)
        rasterise(scene, into: out)
        return scene
    }

    /// `render(_:defect:rng:into:)` into a new array of `3 * size * size` floats.
    public func render(_ prompt: ShapesPrompt, defect: Defect? = nil, rng: inout RandomStream) -> [Float] {
        [Float](unsafeUninitializedCapacity: imageCount) { buffer, count in
            render(prompt, defect: defect, rng: &rng, into: buffer.baseAddress!)
            count = imageCount
        }
    }

    /// `render` as an 8-bit image.
    public func renderImage(_ prompt: ShapesPrompt, defect: Defect? = nil, rng: inout RandomStream) -> RGBImage {
        RGBImage(chw: render(prompt, defect: defect, rng: &rng), width: size, height: size)
    }

    /// Writes `scene` to `out` (3, S, S); a pure function of the scene.
    public func rasterise(_ scene: ShapesScene, into out: UnsafeMutablePointer<Float>) {
        precondition(scene.size == size, "a \(scene.size)-pixel scene given to a \(size)-pixel renderer")
        let s = size, plane = s * s
        let bg = scene.backgroundColour, fg = scene.shapeColour, tex = scene.texture
        let toGrid = 3 / Float(s)
        for y in 0..<s {
            let py = Float(y) + 0.5
            let gy = py * toGrid
            let j = min(Int(gy), 2)
            var ty = gy - Float(j)
            ty = ty * ty * (3 - 2 * ty)
            for x in 0..<s {
                let px = Float(x) + 0.5
                let gx = px * toGrid
                let i = min(Int(gx), 2)
                var tx = gx - Float(i)
                tx = tx * tx * (3 - 2 * tx)
                let top = tex[j * 4 + i] + tx * (tex[j * 4 + i + 1] - tex[j * 4 + i])
                let bottom = tex[j * 4 + i + 4] + tx * (tex[j * 4 + i + 5] - tex[j * 4 + i + 4])
                let t = top + ty * (bottom - top)
                let cov = scene.coverage(x: px, y: py)
                let o = y * s + x
                out[o] = bg.x + t + cov * (fg.x - bg.x - t)
                out[plane + o] = bg.y + t + cov * (fg.y - bg.y - t)
                out[2 * plane + o] = bg.z + t + cov * (fg.z - bg.z - t)
            }
        }
        if scene.blurSigma > 0 {
            for c in 0..<3 { Defect.gaussianBlur(out + c * plane, size: s, sigma: scene.blurSigma) }
        }
        if scene.noiseSigma > 0 {
            var noise = RandomStream(seed: scene.noiseSeed, stream: 0x4E4F_4953_45)  // "NOISE"
            Defect.addNoise(out, count: 3 * plane, sigma: scene.noiseSigma, rng: &noise)
        }
        for k in 0..<(3 * plane) { out[k] = min(max(out[k], -1), 1) }
    }
}
