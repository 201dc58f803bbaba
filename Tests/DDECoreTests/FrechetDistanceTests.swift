import XCTest
import DDECore

final class FrechetDistanceTests: XCTestCase {
    /// d x d diagonal matrix, row-major.
    func diagonal(_ v: [Double]) -> [Double] {
        let d = v.count
        var m = [Double](repeating: 0, count: d * d)
        for i in 0..<d { m[i * d + i] = v[i] }
        return m
    }

    /// sum (sqrt a - sqrt b)^2 + |mu1 - mu2|^2: the FD of Gaussians whose covariances commute
    /// (share eigenvectors) with eigenvalues a and b.
    func closedForm(_ mu1: [Double], _ a: [Double], _ mu2: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += (a[i].squareRoot() - b[i].squareRoot()) * (a[i].squareRoot() - b[i].squareRoot()) }
        for i in mu1.indices { s += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) }
        return s
    }

    /// A random d x d orthogonal matrix: Gram-Schmidt (twice) of a Gaussian matrix's rows.
    func orthogonal(_ d: Int, seed: UInt64) -> [Double] {
        var data = TestData(seed: seed)
        var q = data.normal(d * d).doubles
        for i in 0..<d {
            for _ in 0..<2 {
                for j in 0..<i {
                    var dot = 0.0
                    for k in 0..<d { dot += q[i * d + k] * q[j * d + k] }
                    for k in 0..<d { q[i * d + k] -= dot * q[j * d + k] }
                }
            }
            var norm = 0.0
            for k in 0..<d { norm += q[i * d + k] * q[i * d + k] }
            for k in 0..<d { q[i * d + k] /= norm.squareRoot() }
        }
        return q
    }

    /// Q diag(v) Q^T.
    func rotated(_ q: [Double], _ v: [Double]) -> [Double] {
        let d = v.count
        var m = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                var s = 0.0
                for k in 0..<d { s += q[i * d + k] * v[k] * q[j * d + k] }
                m[i * d + j] = s
            }
        }
        return m
    }

    func testDiagonalMatchesClosedForm() throws {
        let a: [Double] = [1, 4, 0.25, 9, 2.5], b: [Double] = [2, 1, 0.25, 16, 0.1]
        let mu1: [Double] = [0, 1, -2, 0.5, 3], mu2: [Double] = [1, 1, 0, 0.5, -1]
        let fd = try FrechetDistance.distance(mean1: mu1, covariance1: diagonal(a), mean2: mu2, covariance2: diagonal(b))
        let expected = closedForm(mu1, a, mu2, b)
        XCTAssertEqual(fd, expected, accuracy: 1e-10 * expected)
        XCTAssertEqual(try FrechetDistance.distance(mean1: mu1, covariance1: diagonal(a), mean2: mu1, covariance2: diagonal(a)),
                       0, accuracy: 1e-12, "identical Gaussians")
    }

    /// The same rotation applied to both (non-diagonal) covariances leaves the FD unchanged;
    /// d = 64 as in the evaluation, with a wide eigenvalue spread.
    func testRotatedCovariancesMatchClosedForm() throws {
        let d = 64
        var data = TestData(seed: 5)
        let a: [Double] = (0..<d).map { i -> Double in Double(i % 7) * 0.3 + 0.01 * Double(i + 1) }
        var b: [Double] = []
        for _ in 0..<d { b.append(Double(abs(data.rng.normal())) + 0.05) }
        let mu1 = data.normal(d).doubles, mu2 = data.normal(d).doubles
        let q = orthogonal(d, seed: 6)
        let s1 = rotated(q, a), s2 = rotated(q, b)
        XCTAssertNotEqual(s1[1], 0, "the covariances are not diagonal")
        let fd = try FrechetDistance.distance(mean1: mu1, covariance1: s1, mean2: mu2, covariance2: s2)
        let expected = closedForm(mu1, a, mu2, b)
        XCTAssertEqual(fd, expected, accuracy: 1e-9 * expected)
        // The rotation also rotates the means: still the same FD.
        func rotate(_ v: [Double]) -> [Double] { (0..<d).map { i in (0..<d).reduce(0) { $0 + q[i * d + $1] * v[$1] } } }
        let fd2 = try FrechetDistance.distance(mean1: rotate(mu1), covariance1: s1, mean2: rotate(mu2), covariance2: s2)
        XCTAssertEqual(fd2, expected, accuracy: 1e-9 * expected)
    }

    /// d = 2 with non-commuting covariances against an independent formula: the eigenvalues of
    /// S1^{1/2} S2 S1^{1/2} are those of S1 S2, and for a 2 x 2 PSD M, tr sqrt(M) =
    /// sqrt(tr M + 2 sqrt(det M)).
    func testTwoDimensionalHandFormula() throws {
        let s1: [Double] = [2, 0.7, 0.7, 1], s2: [Double] = [0.5, -0.3, -0.3, 3]
        let mu1: [Double] = [0.2, -1], mu2: [Double] = [1, 0.5]
        let trProduct = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3]
        let det1 = s1[0] * s1[3] - s1[1] * s1[2], det2 = s2[0] * s2[3] - s2[1] * s2[2]
        let trRoot = (trProduct + 2 * (det1 * det2).squareRoot()).squareRoot()
        let expected = (0.8 * 0.8 + 1.5 * 1.5) + (s1[0] + s1[3] + s2[0] + s2[3]) - 2 * trRoot
        let fd = try FrechetDistance.distance(mean1: mu1, covariance1: s1, mean2: mu2, covariance2: s2)
        XCTAssertEqual(fd, expected, accuracy: 1e-12 * abs(expected) + 1e-14)
        // symmetric in its arguments
        let swapped = try FrechetDistance.distance(mean1: mu2, covariance1: s2, mean2: mu1, covariance2: s1)
        XCTAssertEqual(swapped, expected, accuracy: 1e-12 * abs(expected))
    }

    func testSquareRootSquaresBack() throws {
        let d = 12
        var data = TestData(seed: 9)
        let g = data.normal(d * d).doubles
        var s = [Double](repeating: 0, count: d * d)  // G G^T, PSD
        for i in 0..<d { for j in 0..<d { for k in 0..<d { s[i * d + j] += g[i * d + k] * g[j * d + k] } } }
        let r = try FrechetDistance.symmetricSquareRoot(s, n: d)
        for i in 0..<d {
            for j in 0..<d {
                XCTAssertEqual(r[i * d + j], r[j * d + i], accuracy: 1e-12, "symmetric")
                let rr = (0..<d).reduce(0.0) { $0 + r[i * d + $1] * r[$1 * d + j] }
                XCTAssertEqual(rr, s[i * d + j], accuracy: 1e-10 * Double(d))
            }
        }
    }

    func testMomentsMatchHandComputation() {
        // three 2-d samples: (1, 2), (3, 0), (5, 4): mean (3, 2); deviations (-2, 0), (0, -2), (2, 2)
        // covariance / (n - 1) = [[8, 4], [4, 8]] / 2
        let m = FrechetDistance.moments([1, 2, 3, 0, 5, 4], count: 3, dimension: 2)
        XCTAssertEqual(m.mean, [3, 2])
        XCTAssertEqual(m.covariance, [4, 2, 2, 4])
    }

    /// Sample sets: FD(X, X) = 0, FD(X, X + v) = |v|^2, and 3000 x 64 well under a second.
    func testSamplesIdentityAndTranslation() throws {
        let (n, d) = (3000, 64)
        var data = TestData(seed: 11)
        // correlated features: x = z W, plus a mean
        let w = data.normal(d * d, scale: 0.3)
        let z = data.normal(n * d)
        var x = [Float](repeating: 0.5, count: n * d)
        for i in 0..<n { for k in 0..<d { let zik = z[i * d + k]; for j in 0..<d { x[i * d + j] += zik * w[k * d + j] } } }
        let same = try FrechetDistance.distance(x, count: n, x, count: n, dimension: d)
        let trace = FrechetDistance.moments(x, count: n, dimension: d).covariance.enumerated()
            .filter { $0.offset % (d + 1) == 0 }.reduce(0) { $0 + $1.element }
        XCTAssertEqual(same, 0, accuracy: 1e-10 * trace, "FD(X, X)")

        // shift by a v whose entries are powers of two, so x + v is exact in Float where it can be
        let v = (0..<d).map { Float(($0 % 3) - 1) * 0.25 }
        let shifted = (0..<(n * d)).map { x[$0] + v[$0 % d] }
        let normV = v.reduce(0.0) { $0 + Double($1) * Double($1) }
        let fd = try FrechetDistance.distance(x, count: n, shifted, count: n, dimension: d)
        XCTAssertEqual(fd, normV, accuracy: 1e-5 * normV, "FD(X, X + v) = |v|^2")
        // and exactly on moments
        let mx = FrechetDistance.moments(x, count: n, dimension: d)
        var my = mx
        for j in 0..<d { my.mean[j] += Double(v[j]) }
        XCTAssertEqual(try FrechetDistance.distance(mx, my), normV, accuracy: 1e-10 * trace)
    }

    /// Large samples of two diagonal Gaussians approach the closed form (sampling error only).
    func testLargeSamplesApproachClosedForm() throws {
        let (n, d) = (20000, 4)
        let a: [Double] = [1, 4, 0.25, 2], b: [Double] = [2, 1, 0.25, 0.5]
        let mu1: [Double] = [0, 1, 0, 0], mu2: [Double] = [1, 0, 0, 2]
        var data = TestData(seed: 12)
        func sample(_ mu: [Double], _ v: [Double]) -> [Float] {
            (0..<(n * d)).map { Float(mu[$0 % d] + v[$0 % d].squareRoot() * Double(data.rng.normal())) }
        }
        let x = sample(mu1, a), y = sample(mu2, b)
        let fd = try FrechetDistance.distance(x, count: n, y, count: n, dimension: d)
        let expected = closedForm(mu1, a, mu2, b)
        XCTAssertEqual(fd, expected, accuracy: 0.05 * expected)
    }
}
