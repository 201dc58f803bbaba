extension Naive {
    /// x: (R, D)  gamma, beta: (D)  out: (R, D) — PyTorch's `nn.LayerNorm` by its definition:
    /// per row, `(x - mean) / sqrt(var + eps) * gamma + beta`, biased variance.
    @inlinable public static func layerNorm<T: BinaryFloatingPoint>(_ x: [T], gamma: [T], beta: [T], rows: Int,
                                                                   dimension d: Int, eps: T = 1e-5) -> [T] {
        var out = [T](repeating: 0, count: rows * d)
        for r in 0..<rows {
            var mean: T = 0
            for i in 0..<d { mean += x[r * d + i] }
            mean /= T(d)
            var variance: T = 0
            for i in 0..<d { variance += (x[r * d + i] - mean) * (x[r * d + i] - mean) }
            variance /= T(d)
            let denominator = (variance + eps).squareRoot()
            for i in 0..<d { out[r * d + i] = (x[r * d + i] - mean) / denominator * gamma[i] + beta[i] }
        }
        return out
    }
}
