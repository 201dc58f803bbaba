import XCTest
import DDECore

final class InceptionScoreTests: XCTestCase {
    func testConfidentEvenPredictionsScoreTheClassCount() {
        for k in [2, 4, 6, 8] {
            let n = 3 * k
            var p = [Float](repeating: 0, count: n * k)
            for i in 0..<n { p[i * k + i % k] = 1 }
            XCTAssertEqual(InceptionScore.score(p, count: n, classes: k), Double(k), accuracy: 1e-12, "K = \(k)")
        }
    }

    func testIdenticalPredictionsScoreOne() {
        let row: [Float] = [0.1, 0.6, 0.2, 0.1]
        let p = (0..<10).flatMap { _ in row }
        XCTAssertEqual(InceptionScore.score(p, count: 10, classes: 4), 1, accuracy: 1e-12)
        let oneHot = (0..<10).flatMap { _ in [Float](arrayLiteral: 0, 0, 1, 0) }
        XCTAssertEqual(InceptionScore.score(oneHot, count: 10, classes: 4), 1, accuracy: 1e-12)
        XCTAssertEqual(InceptionScore.score([], count: 0, classes: 4), 1)
    }

    /// (0.9, 0.1) and (0.1, 0.9): marginal (0.5, 0.5), each KL = 0.9 ln 1.8 + 0.1 ln 0.2.
    func testHandComputedCase() {
        let kl = 0.9 * log(1.8) + 0.1 * log(0.2)
        XCTAssertEqual(InceptionScore.score([0.9, 0.1, 0.1, 0.9], count: 2, classes: 2), exp(kl), accuracy: 1e-6)
    }

    func testPerAttributeAndMean() {
        // n = 24 images, attribute a predicts class i % K_a with certainty: scores (6, 8, 4, 2), mean 5
        let n = 24
        let p: [[Float]] = AlignClassifier.classCounts.map { k in
            var t = [Float](repeating: 0, count: n * k)
            for i in 0..<n { t[i * k + i % k] = 1 }
            return t
        }
        let scores = InceptionScore.perAttribute(p, count: n)
        for (s, k) in zip(scores, AlignClassifier.classCounts) { XCTAssertEqual(s, Double(k), accuracy: 1e-12) }
        XCTAssertEqual(InceptionScore.mean(p, count: n), 5, accuracy: 1e-12)
    }
}
