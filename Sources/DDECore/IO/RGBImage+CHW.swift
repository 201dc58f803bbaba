/// Conversion between 8-bit images and the diffusion model's Float CHW layout in [-1, 1]:
/// `x = byte / 127.5 - 1`, and back `byte = round((x + 1) * 127.5)` clamped to 0...255.
extension RGBImage {
    /// The image of a (3, H, W) array in model units; values outside [-1, 1] are clamped.
    public init(chw: UnsafePointer<Float>, width: Int, height: Int) {
        let plane = width * height
        let pixels = [UInt8](unsafeUninitializedCapacity: 3 * plane) { buffer, count in
            for i in 0..<plane {
                for c in 0..<3 {
                    let v = (chw[c * plane + i] + 1) * 127.5
                    buffer[3 * i + c] = UInt8(min(max(v, 0), 255).rounded())
                }
            }
            count = 3 * plane
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The image of a (3, H, W) array in model units.
    public init(chw: [Float], width: Int, height: Int) {
        precondition(chw.count == 3 * width * height, "\(chw.count) floats is not a 3x\(height)x\(width) image")
        self = chw.withUnsafeBufferPointer { RGBImage(chw: $0.baseAddress!, width: width, height: height) }
    }

    /// Writes the image to `out` as (3, H, W) in model units.
    public func writeCHW(into out: UnsafeMutablePointer<Float>) {
        let plane = width * height
        for i in 0..<plane {
            for c in 0..<3 { out[c * plane + i] = Float(pixels[3 * i + c]) / 127.5 - 1 }
        }
    }

    /// The image as (3, H, W) in model units.
    public var chw: [Float] {
        [Float](unsafeUninitializedCapacity: 3 * width * height) { buffer, count in
            writeCHW(into: buffer.baseAddress!)
            count = 3 * width * height
        }
    }
}
