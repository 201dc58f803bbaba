import XCTest
import DDECore

final class SoftmaxCrossEntropyTests: XCTestCase {
    func testForwardMatchesNaiveAndGradientMatchesFiniteDifferences() {
        var data = TestData(seed: 72)
        for (n, k) in [(3, 6), (1, 2), (7, 8), (64, 4)] {
            let logits = data.normal(n * k, scale: 3), dLoss = data.normal(n), start = data.normal(n * k)
            let labels = (0..<n).map { _ in data.int(0, k - 1) }
            let mem = TestArena()
            defer { mem.free() }
            let probabilities = mem.filled(n * k, .nan), loss = mem.filled(n, .nan)
            let lp = mem.copy(logits), yp = mem.copy(labels)
            SoftmaxCrossEntropy.forward(logits: lp, labels: yp, probabilities: probabilities, loss: loss, n: n, classes: k)
            assertClose(array(probabilities, n * k), Naive.softmax(logits, n: n, classes: k), tolerance: 1e-6, "softmax \(n)x\(k)")
            assertClose(array(loss, n), Naive.softmaxCrossEntropy(logits, labels: labels, n: n, classes: k), tolerance: 1e-6,
                        "cross-entropy \(n)x\(k)")
            let alone = mem.filled(n * k, .nan)
            SoftmaxCrossEntropy.softmax(lp, alone, n: n, classes: k)
            assertIdentical(array(alone, n * k), array(probabilities, n * k), "softmax alone = forward's")

            let dLogits = mem.copy(start)
            SoftmaxCrossEntropy.backward(dLoss: mem.copy(dLoss), probabilities: probabilities, labels: yp, dLogits: dLogits,
                                         n: n, classes: k)
            let rd = dLoss.doubles
            GradCheck.check("cross-entropy dLogits \(n)x\(k)", analytic: minus(array(dLogits, n * k), start), at: logits.doubles) {
                dotD(rd, Naive.softmaxCrossEntropy($0, labels: labels, n: n, classes: k))
            }
        }
    }

    /// The max shift keeps huge logits finite; the loss of a confident right answer is ~0, of a
    /// confident wrong one the logit gap.
    func testExtremeLogitsStayFinite() {
        let mem = TestArena()
        defer { mem.free() }
        let probabilities = mem.filled(6), loss = mem.filled(2)
        SoftmaxCrossEntropy.forward(logits: mem.copy([1000, 0, -1000, 1000, 0, -1000] as [Float]), labels: mem.copy([0, 1]),
                                    probabilities: probabilities, loss: loss, n: 2, classes: 3)
        XCTAssertEqual(array(probabilities, 3), [1, 0, 0])
        XCTAssertEqual(loss[0], 0)
        XCTAssertEqual(loss[1], 1000)
    }
}
