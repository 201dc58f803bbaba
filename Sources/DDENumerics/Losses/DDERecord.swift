/// DDE's record `A[1..T]` (losses.md, Algorithm 1, "delay update"): per step s an exponential
/// average of `lambda_s * D_s` over the iterations that sampled s, from which the correction
/// `C_t = sum_{s=t+1..T} A[s]` is read. Training state: checkpointed, restored, logged.
///
/// With `buckets < T` consecutive steps share one entry (bucket of s: `(s - 1) * buckets / T`),
/// updated from every pair that drew any of its steps, and `C_t` adds, for each s > t, the entry
/// of s's bucket. With bias correction each entry is read as `A / (1 - g^n)`, n its update
/// count (an entry never updated reads as 0).
public struct DDERecord: Sendable, Equatable {
    public let T: Int
    public let buckets: Int
    public let decay: Double
    public let biasCorrection: Bool
    /// Raw entries and their update counts, one per bucket.
    public var entries: [Double]
    public var updates: [Int]

    public init(T: Int, buckets: Int, decay: Double, biasCorrection: Bool) {
        precondition(buckets >= 1 && buckets <= T)
        self.T = T
        self.buckets = buckets
        self.decay = decay
        self.biasCorrection = biasCorrection
        entries = [Double](repeating: 0, count: buckets)
        updates = [Int](repeating: 0, count: buckets)
    }

    public func bucket(_ s: Int) -> Int { (s - 1) * buckets / T }

    /// The value an entry contributes: raw, or bias-corrected.
    public func value(bucket b: Int) -> Double {
        guard biasCorrection else { return entries[b] }
        if updates[b] == 0 { return 0 }
        return entries[b] / (1 - pow(decay, Double(updates[b])))
    }

    /// `A` read per step s = 1...T (index 0 unused).
    public func perStep() -> [Double] {
        var a = [Double](repeating: 0, count: T + 1)
        let values = (0..<buckets).map { value(bucket: $0) }
        for s in 1...T { a[s] = values[bucket(s)] }
        return a
    }

    /// `suffix[t] = sum_{s=t+1..T} A[s]` for t = 0...T (`suffix[T] = 0`), so `C_t = suffix[t]`
    /// and the sum over all s is `suffix[0]`.
    public func suffixSums() -> [Double] {
        let a = perStep()
        var suffix = [Double](repeating: 0, count: T + 1)
        for t in stride(from: T - 1, through: 0, by: -1) { suffix[t] = suffix[t + 1] + a[t + 1] }
        return suffix
    }

    /// After an iteration: for every bucket some pair drew, `A <- g A + (1 - g) mean(values)`,
    /// the mean over those pairs of `lambda_s D_s` (detached, from the same forward pass).
    public mutating func update(steps: [Int], values: [Double]) {
        var sum = [Double](repeating: 0, count: buckets), count = [Int](repeating: 0, count: buckets)
        for (s, v) in zip(steps, values) {
            let b = bucket(s)
            sum[b] += v
            count[b] += 1
        }
        for b in 0..<buckets where count[b] > 0 {
            entries[b] = decay * entries[b] + (1 - decay) * sum[b] / Double(count[b])
            updates[b] += 1
        }
    }
}

import Foundation
