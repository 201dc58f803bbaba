import Foundation

/// The Frechet distance between two Gaussians fitted to feature sets (FID's formula,
/// Heusel et al. 2017, eq. 6; the Frechet/2-Wasserstein distance of Dowson & Landau 1982):
///
///     FD = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1^{1/2} S_2 S_1^{1/2})^{1/2})
///
/// in Double. The symmetric form is used instead of pytorch-fid's `sqrtm(S_1 S_2)` (S_1 S_2 is
/// not symmetric, so its square root needs a general Schur method and may come out complex);
/// both have the same trace, because `S_1^{1/2} S_2 S_1^{1/2}` is similar to `S_1 S_2`. Every
/// square root goes through `BLAS.symmetricEigen` (LAPACKE `dsyevd`): `V diag(sqrt(max(l, 0))) V^T`,
/// negative eigenvalues from rounding clamped to 0. Only the trace of the outer root is needed,
/// `Σ sqrt(max(l_i, 0))` over the eigenvalues of the (symmetrised) inner product.
///
/// The result is not clamped: for equal inputs it is 0 up to rounding (about 1e-12 x the
/// covariances' trace), and may be a tiny negative number.
///
/// Cost for d = 64: two 64x64 eigendecompositions and three 64^3 products, well under a
/// millisecond; the moments of n features are `n d^2 / 2` multiply-adds (3000 x 64: ~6 M, a few
/// milliseconds).
public enum FrechetDistance {
    /// The mean and covariance of a Gaussian, in Double; `covariance` is `(d, d)` row-major.
    public struct Moments: Sendable, Equatable {
        public var mean: [Double]
        public var covariance: [Double]
        public var dimension: Int { mean.count }

        public init(mean: [Double], covariance: [Double]) {
            precondition(covariance.count == mean.count * mean.count,
                         "FrechetDistance.Moments: a \(mean.count)-vector needs \(mean.count * mean.count) covariance entries, not \(covariance.count)")
            self.mean = mean
            self.covariance = covariance
        }
    }

    /// features: (N, d) row-major, N >= 2 -> their mean and unbiased (N - 1) covariance, in
    /// Double (accumulated about the mean, two passes, so large offsets do not cancel).
    public static func moments(_ features: [Float], count n: Int, dimension d: Int) -> Moments {
        precondition(features.count == n * d, "FrechetDistance.moments: \(features.count) values are not \(n) x \(d)")
        precondition(n >= 2, "FrechetDistance.moments: a covariance needs at least 2 samples, got \(n)")
        var mean = [Double](repeating: 0, count: d)
        var cov = [Double](repeating: 0, count: d * d)
        features.withUnsafeBufferPointer { x in
            for i in 0..<n {
                for j in 0..<d { mean[j] += Double(x[i * d + j]) }
            }
            for j in 0..<d { mean[j] /= Double(n) }
            var centred = [Double](repeating: 0, count: d)
            for i in 0..<n {
                for j in 0..<d { centred[j] = Double(x[i * d + j]) - mean[j] }
                // upper triangle only; mirrored below
                for j in 0..<d {
                    let cj = centred[j]
                    for k in j..<d { cov[j * d + k] += cj * centred[k] }
                }
            }
        }
        let scale = 1 / Double(n - 1)
        for j in 0..<d {
            for k in j..<d {
                cov[j * d + k] *= scale
                cov[k * d + j] = cov[j * d + k]
            }
        }
        return Moments(mean: mean, covariance: cov)
    }

    /// The Frechet distance between two Gaussians given by their moments.
    public static func distance(_ a: Moments, _ b: Moments) throws -> Double {
        try distance(mean1: a.mean, covariance1: a.covariance, mean2: b.mean, covariance2: b.covariance)
    }

    /// The Frechet distance between N(mean1, covariance1) and N(mean2, covariance2); the
    /// covariances are `(d, d)` row-major, symmetric positive semi-definite.
    public static func distance(mean1: [Double], covariance1: [Double], mean2: [Double], covariance2: [Double]) throws -> Double {
        let d = mean1.count
        precondition(mean2.count == d && covariance1.count == d * d && covariance2.count == d * d,
                     "FrechetDistance: means of \(mean1.count) and \(mean2.count), covariances of \(covariance1.count) and \(covariance2.count) entries")
        var meanTerm = 0.0
        for j in 0..<d { meanTerm += (mean1[j] - mean2[j]) * (mean1[j] - mean2[j]) }
        var traces = 0.0
        for j in 0..<d { traces += covariance1[j * d + j] + covariance2[j * d + j] }
        // A = S_1^{1/2}; M = A S_2 A, symmetrised against rounding; tr(M^{1/2}) = Σ sqrt(l_i(M)).
        let root = try symmetricSquareRoot(covariance1, n: d)
        var inner = multiply(multiply(root, covariance2, n: d), root, n: d)
        for i in 0..<d {
            for j in (i + 1)..<d {
                let s = (inner[i * d + j] + inner[j * d + i]) / 2
                inner[i * d + j] = s
                inner[j * d + i] = s
            }
        }
        let values = try BLAS.symmetricEigen(&inner, n: d)
        var traceRoot = 0.0
        for l in values { traceRoot += max(l, 0).squareRoot() }
        return meanTerm + traces - 2 * traceRoot
    }

    /// Two feature sets, x: (N, d) and y: (M, d) row-major -> the Frechet distance between the
    /// Gaussians of their sample moments (`moments(_:count:dimension:)`).
    public static func distance(_ x: [Float], count n: Int, _ y: [Float], count m: Int, dimension d: Int) throws -> Double {
        try distance(moments(x, count: n, dimension: d), moments(y, count: m, dimension: d))
    }

    /// The square root of a symmetric PSD `(n, n)` row-major matrix, `V diag(sqrt(max(l, 0))) V^T`
    /// from `BLAS.symmetricEigen`; symmetric by construction.
    public static func symmetricSquareRoot(_ matrix: [Double], n: Int) throws -> [Double] {
        var v = matrix
        let values = try BLAS.symmetricEigen(&v, n: n)  // v[i * n + k]: component i of eigenvector k
        let roots = values.map { max($0, 0).squareRoot() }
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in 0..<n { s += v[i * n + k] * roots[k] * v[j * n + k] }
                out[i * n + j] = s
                out[j * n + i] = s
            }
        }
        return out
    }

    /// `(n, n) x (n, n)` row-major, plain loops (64^3 = 262 k multiply-adds: no BLAS needed).
    static func multiply(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }
}
