import Foundation

extension Naive {
    /// q: (B, Lq, H*Dh)  k, v: (B, Lk, H*Dh)  out: (B, Lq, H*Dh) — multi-head attention by its
    /// definition: per image and head, `softmax(Q K^T / sqrt(Dh)) V`, exp in Double; `causal`
    /// leaves out keys after the query's position.
    @inlinable public static func attention<T: BinaryFloatingPoint>(q: [T], k: [T], v: [T], batch: Int, queries lq: Int,
                                                                   keys lk: Int, heads: Int, headDimension dh: Int,
                                                                   causal: Bool = false) -> [T] {
        let width = heads * dh, scale = 1 / T(dh).squareRoot()
        var out = [T](repeating: 0, count: batch * lq * width)
        for b in 0..<batch {
            for h in 0..<heads {
                for i in 0..<lq {
                    let visible = causal ? i + 1 : lk
                    var scores = [T](repeating: 0, count: visible)
                    for j in 0..<visible {
                        var s: T = 0
                        for c in 0..<dh { s += q[(b * lq + i) * width + h * dh + c] * k[(b * lk + j) * width + h * dh + c] }
                        scores[j] = s * scale
                    }
                    let top = scores.max()!
                    let e = scores.map { T(Foundation.exp(Double($0 - top))) }
                    let total = e.reduce(0, +)
                    for c in 0..<dh {
                        var s: T = 0
                        for j in 0..<visible { s += e[j] / total * v[(b * lk + j) * width + h * dh + c] }
                        out[(b * lq + i) * width + h * dh + c] = s
                    }
                }
            }
        }
        return out
    }
}
