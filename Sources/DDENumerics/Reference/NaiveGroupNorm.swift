extension Naive {
    /// x: (N, C, H, W)  gamma, beta: (C)  out: (N, C, H, W) — PyTorch's `nn.GroupNorm` by its
    /// definition: per (n, group) mean and biased variance, `(x - mean) / sqrt(var + eps)`,
    /// then `* gamma[c] + beta[c]`; then `silu` when `applySiLU`.
    @inlinable public static func groupNorm<T: BinaryFloatingPoint>(_ x: [T], gamma: [T], beta: [T], n: Int, c: Int, h: Int, w: Int,
                                                         groups: Int, eps: T = 1e-5, applySiLU: Bool = false) -> [T] {
        let cpg = c / groups, hw = h * w, m = cpg * hw
        var out = [T](repeating: 0, count: n * c * hw)
        for i in 0..<n {
            for g in 0..<groups {
                let start = (i * c + g * cpg) * hw
                var mean: T = 0
                for k in 0..<m { mean += x[start + k] }
                mean /= T(m)
                var variance: T = 0
                for k in 0..<m { variance += (x[start + k] - mean) * (x[start + k] - mean) }
                variance /= T(m)
                let denominator = (variance + eps).squareRoot()
                for j in 0..<cpg {
                    let ch = g * cpg + j
                    for k in 0..<hw {
                        let idx = start + j * hw + k
                        let y = (x[idx] - mean) / denominator * gamma[ch] + beta[ch]
                        out[idx] = applySiLU ? siluScalar(y) : y
                    }
                }
            }
        }
        return out
    }
}
