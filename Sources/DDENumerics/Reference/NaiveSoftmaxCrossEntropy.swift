import Foundation

extension Naive {
    /// logits: (N, K)  out: (N, K) — `exp(l_k) / Σ_j exp(l_j)` by the definition (no max
    /// shift; exp taken in Double), for logits of moderate size.
    @inlinable public static func softmax<T: BinaryFloatingPoint>(_ logits: [T], n: Int, classes k: Int) -> [T] {
        var out = [T](repeating: 0, count: n * k)
        for i in 0..<n {
            var total = 0.0
            for j in 0..<k { total += Foundation.exp(Double(logits[i * k + j])) }
            for j in 0..<k { out[i * k + j] = T(Foundation.exp(Double(logits[i * k + j])) / total) }
        }
        return out
    }

    /// logits: (N, K)  labels: (N)  out: (N) — `-log softmax(logits)[n, labels[n]]`.
    @inlinable public static func softmaxCrossEntropy<T: BinaryFloatingPoint>(_ logits: [T], labels: [Int], n: Int,
                                                                              classes k: Int) -> [T] {
        let p = softmax(logits, n: n, classes: k)
        return (0..<n).map { T(-Foundation.log(Double(p[$0 * k + labels[$0]]))) }
    }
}
