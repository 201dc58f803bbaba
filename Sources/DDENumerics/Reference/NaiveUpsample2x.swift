extension Naive {
    /// x: (N, C, H, W)  out: (N, C, 2H, 2W) — PyTorch's nearest rule, source index
    /// `floor(dst * in / out)`.
    @inlinable public static func upsample2x<T: BinaryFloatingPoint>(_ x: [T], n: Int, c: Int, h: Int, w: Int) -> [T] {
        let oh = 2 * h, ow = 2 * w
        var out = [T](repeating: 0, count: n * c * oh * ow)
        for p in 0..<(n * c) {
            for i in 0..<oh {
                for j in 0..<ow {
                    let si = (i * h) / oh, sj = (j * w) / ow
                    out[(p * oh + i) * ow + j] = x[(p * h + si) * w + sj]
                }
            }
        }
        return out
    }
}
