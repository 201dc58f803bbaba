import Foundation

/// Softmax cross-entropy over one categorical attribute, PyTorch's
/// `F.cross_entropy(logits, labels, reduction="none")`, one loss per row:
///
///     p[n, k]  = exp(logits[n, k] - m) / Σ_j exp(logits[n, j] - m),   m = max_j logits[n, j]
///     loss[n]  = log Σ_j exp(logits[n, j] - m) + m - logits[n, labels[n]]
///     dlogits[n, k] = dLoss[n] (p[n, k] - [k == labels[n]])
///
/// Subtracting the row maximum keeps every `exp` in (0, 1]: no overflow for any finite logits,
/// and the loss is exact to Float rounding even when one class dominates. Rows are short (the
/// attributes have 2 to 8 values): plain loops on one thread.
public enum SoftmaxCrossEntropy {
    /// logits: (N, K)  probabilities: (N, K), overwritten — the row-wise softmax
    public static func softmax(_ logits: UnsafePointer<Float>, _ probabilities: UnsafeMutablePointer<Float>,
                               n: Int, classes k: Int) {
        for i in 0..<n { _ = softmaxRow(logits + i * k, probabilities + i * k, classes: k) }
    }

    /// One row's softmax into `p`; returns the row maximum and `sum exp(row - max)`, from which
    /// the row's log-sum-exp is `log(total) + max`.
    @inline(__always)
    static func softmaxRow(_ row: UnsafePointer<Float>, _ p: UnsafeMutablePointer<Float>, classes k: Int) -> (max: Float, total: Float) {
        var m = row[0]
        for j in 1..<k { m = max(m, row[j]) }
        var total: Float = 0
        for j in 0..<k { p[j] = Foundation.exp(row[j] - m); total += p[j] }
        let inv = 1 / total
        for j in 0..<k { p[j] *= inv }
        return (m, total)
    }

    /// logits: (N, K)  labels: (N), each in 0..<K  probabilities: (N, K), overwritten
    /// loss: (N), overwritten — the softmax (kept for backward) and the per-row loss
    public static func forward(logits: UnsafePointer<Float>, labels: UnsafePointer<Int>,
                               probabilities: UnsafeMutablePointer<Float>, loss: UnsafeMutablePointer<Float>,
                               n: Int, classes k: Int) {
        for i in 0..<n {
            let row = logits + i * k, p = probabilities + i * k, y = labels[i]
            precondition((0..<k).contains(y), "SoftmaxCrossEntropy: label \(y) of row \(i) is outside 0..<\(k)")
            let (m, total) = softmaxRow(row, p, classes: k)
            loss[i] = Foundation.log(total) + m - row[y]
        }
    }

    /// dLoss: (N)  probabilities: (N, K), the forward's  labels: (N)  dLogits: (N, K), added into —
    /// `dLogits[n, k] += dLoss[n] (p[n, k] - [k == labels[n]])`
    public static func backward(dLoss: UnsafePointer<Float>, probabilities: UnsafePointer<Float>,
                                labels: UnsafePointer<Int>, dLogits: UnsafeMutablePointer<Float>,
                                n: Int, classes k: Int) {
        for i in 0..<n {
            let g = dLoss[i], p = probabilities + i * k, d = dLogits + i * k
            for j in 0..<k { d[j] += g * p[j] }
            d[labels[i]] -= g
        }
    }
}
