/// Global average pooling, PyTorch's `AdaptiveAvgPool2d(1)` followed by `flatten(1)`:
/// `out[n, c] = mean over H*W of x[n, c, :, :]`, the reduction between a CNN's feature maps and
/// its classifier head (the `align` annotator's).
///
/// Sums go through `Reduce.sum` (Float lanes per 256-block, blocks in Double). Small: one thread.
public enum GlobalAveragePool {
    /// x: (N, C, H, W)  out: (N, C), overwritten
    public static func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, n: Int, c: Int, h: Int, w: Int) {
        let hw = h * w, inv = 1 / Double(hw)
        for p in 0..<(n * c) { out[p] = Float(Reduce.sum(x + p * hw, count: hw) * inv) }
    }

    /// dOut: (N, C)  dx: (N, C, H, W), added into — `dx[n, c, :, :] += dOut[n, c] / (H*W)`
    public static func backward(dOut: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, n: Int, c: Int, h: Int, w: Int) {
        let hw = h * w, inv = 1 / Float(hw)
        for p in 0..<(n * c) {
            let g = dOut[p] * inv, plane = dx + p * hw
            for i in 0..<hw { plane[i] += g }
        }
    }
}
