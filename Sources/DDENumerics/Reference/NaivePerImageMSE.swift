extension Naive {
    /// pred, target: (N, C, H, W)  out: (N) — mean over C*H*W of (pred - target)^2.
    @inlinable public static func perImageMSE<T: BinaryFloatingPoint>(_ pred: [T], _ target: [T], n: Int, c: Int, h: Int, w: Int) -> [T] {
        let size = c * h * w
        return (0..<n).map { i in
            var s: T = 0
            for k in 0..<size { s += (pred[i * size + k] - target[i * size + k]) * (pred[i * size + k] - target[i * size + k]) }
            return s / T(size)
        }
    }
}
