/// The diffusers DPO script's image transform (train_diffusion_dpo.py: `transforms.Resize(
/// resolution, BILINEAR)` then `transforms.CenterCrop(resolution)`, then `Normalize([0.5], [0.5])`):
/// the shorter side scaled to `size` (the longer to `Int(size * long / short)`, as torchvision
/// computes it), resampled as PIL's bilinear filter does (a triangle filter, widened by the scale
/// when shrinking, so every source pixel counts), then the centre `size` x `size` cut out
/// (torchvision's `round((h - size) / 2)`, half to even as Python rounds), as CHW floats in
/// [-1, 1]. PIL rounds to 8 bits between its two passes; this keeps floats (within 1/255).
public enum ImageResize {
    public static func shorterSideAndCentreCrop(_ image: RGBImage, to size: Int) -> [Float] {
        let short = min(image.width, image.height), long = max(image.width, image.height)
        let scaledLong = Int(Double(size) * Double(long) / Double(short))
        let (w, h) = image.width <= image.height ? (size, scaledLong) : (scaledLong, size)
        let top = Int((Double(h - size) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(w - size) / 2).rounded(.toNearestOrEven))
        // Horizontal pass over the rows the crop keeps the sources of, then vertical.
        let across = taps(from: image.width, to: w), down = taps(from: image.height, to: h)
        let firstRow = down[top].first, lastRow = down[top + size - 1].first + down[top + size - 1].weights.count
        var rows = [Float](repeating: 0, count: image.height * size * 3)  // (H_in, size, 3); rows outside the taps stay 0
        for y in firstRow..<lastRow {
            for x in 0..<size {
                let (first, weights) = across[left + x]
                var sum = SIMD3<Float>(0, 0, 0)
                for (k, wk) in weights.enumerated() {
                    let p = (y * image.width + first + k) * 3
                    sum += wk * SIMD3(Float(image.pixels[p]), Float(image.pixels[p + 1]), Float(image.pixels[p + 2]))
                }
                for c in 0..<3 { rows[(y * size + x) * 3 + c] = sum[c] }
            }
        }
        var out = [Float](repeating: 0, count: 3 * size * size)
        for y in 0..<size {
            let (first, weights) = down[top + y]
            for x in 0..<size {
                var sum = SIMD3<Float>(0, 0, 0)
                for (k, wk) in weights.enumerated() {
                    let p = ((first + k) * size + x) * 3
                    sum += wk * SIMD3(rows[p], rows[p + 1], rows[p + 2])
                }
                // Normalised in Double, as FolderImages does: an image already at the size gives
                // the same floats bit for bit (pairs written by the pairs stage keep their digest).
                for c in 0..<3 { out[(c * size + y) * size + x] = Float(Double(min(255, max(0, sum[c]))) / 127.5 - 1) }
            }
        }
        return out
    }

    /// Per output index, the first source index and the normalised weights (PIL's
    /// `precompute_coeffs` for the bilinear filter, support 1).
    static func taps(from input: Int, to output: Int) -> [(first: Int, weights: [Float])] {
        let scale = Double(input) / Double(output), filterScale = max(scale, 1), support = filterScale
        return (0..<output).map { i in
            let centre = (Double(i) + 0.5) * scale
            let lo = max(Int(centre - support + 0.5), 0), hi = min(Int(centre + support + 0.5), input)
            var weights = (lo..<hi).map { j in max(0, 1 - abs((Double(j) - centre + 0.5) / filterScale)) }
            let total = weights.reduce(0, +)
            weights = weights.map { $0 / total }
            return (lo, weights.map(Float.init))
        }
    }
}
