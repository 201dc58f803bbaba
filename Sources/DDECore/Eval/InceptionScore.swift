import Foundation

/// The Inception-Score analog of the testbed (Salimans et al. 2016, "Improved Techniques for
/// Training GANs", section 4): per attribute a of the `align` classifier,
///
///     IS_a = exp( E_x[ KL(p(y|x) || p(y)) ] ),   p(y) = E_x[p(y|x)]  (the mean over the set)
///
/// in Double, with `0 log 0 = 0`. It lies in [1, K_a]: 1 when every image gets the same
/// prediction (lost diversity, or a classifier that sees nothing), K_a when the predictions are
/// confident and spread evenly over the K_a classes. For clean renders of all 384 prompts the
/// ideal is (6, 8, 4, 2).
///
/// The summary over the four attributes is their **arithmetic mean** (ideal 5 for an even
/// spread over all prompts), so each attribute's score keeps its own scale; the per-attribute
/// values are reported beside it.
public enum InceptionScore {
    /// probabilities: (N, K) row-major, each row a distribution -> exp(mean KL(row || mean row)).
    /// 1 for no images.
    public static func score(_ probabilities: [Float], count n: Int, classes k: Int) -> Double {
        precondition(probabilities.count == n * k, "InceptionScore: \(probabilities.count) values are not \(n) x \(k)")
        guard n > 0 else { return 1 }
        var marginal = [Double](repeating: 0, count: k)
        for i in 0..<n {
            for c in 0..<k { marginal[c] += Double(probabilities[i * k + c]) }
        }
        for c in 0..<k { marginal[c] /= Double(n) }
        var kl = 0.0
        for i in 0..<n {
            for c in 0..<k {
                let p = Double(probabilities[i * k + c])
                // p > 0 implies marginal[c] >= p / n > 0
                if p > 0 { kl += p * Foundation.log(p / marginal[c]) }
            }
        }
        return Foundation.exp(kl / Double(n))
    }

    /// Per attribute (shape, colour, background, size) the score of the classifier's
    /// predictions (`AlignClassifier.probabilities`), N images.
    public static func perAttribute(_ probabilities: [[Float]], count n: Int) -> [Double] {
        precondition(probabilities.count == AlignClassifier.classCounts.count,
                     "InceptionScore: one probability table per attribute (\(AlignClassifier.classCounts.count)), got \(probabilities.count)")
        return zip(probabilities, AlignClassifier.classCounts).map { score($0, count: n, classes: $1) }
    }

    /// The arithmetic mean of `perAttribute`.
    public static func mean(_ probabilities: [[Float]], count n: Int) -> Double {
        Statistics.mean(perAttribute(probabilities, count: n))
    }
}
