import XCTest
import DDECore

final class AlignClassifierTests: XCTestCase {
    func testDefaultArchitecture() {
        let classifier = AlignClassifier()
        XCTAssertEqual(classifier.store.count, 66_324, "docs/ANNOTATORS.md quotes it")
        XCTAssertEqual(classifier.store.slots.map(\.name).filter { $0.hasPrefix("head.") },
                       ["head.shape.weight", "head.shape.bias", "head.colour.weight", "head.colour.bias",
                        "head.background.weight", "head.background.bias", "head.size.weight", "head.size.bias"])
        XCTAssertEqual(classifier.store.slot(named: "conv4.weight")?.shape, [64, 64, 3, 3])
        XCTAssertEqual(classifier.sides(16), [16, 8, 4, 4])
        XCTAssertEqual(classifier.sides(32), [32, 16, 8, 8])
    }

    /// The whole classifier at a tiny size against its naive twin (forward) and finite
    /// differences of the twin's loss `Σ_a mean_n CE_a` in Double, for every parameter tensor.
    /// Tolerance 1e-3, as for the U-Net: Float through eight layers and a loss summed over heads.
    func testWholeNetworkMatchesNaiveTwinAndFiniteDifferences() {
        var data = TestData(seed: 81)
        let (n, s) = (3, 6)
        let channels = [4, 8, 8], strides = [1, 2, 1], groups = [2, 4, 4], f = 6
        let classifier = AlignClassifier(channels: channels, strides: strides, featureCount: f, channelsPerGroup: 2)
        var rng = RandomStream(seed: 3)
        classifier.initialize(&rng)
        let store = classifier.store
        // non-trivial norm parameters, so their gradients are checked away from 1 and 0
        for slot in store.slots where slot.name.hasPrefix("norm") { load(store, slot, data.normal(slot.count, scale: 0.5).map { $0 + (slot.name.hasSuffix("weight") ? 1 : 0) }) }
        let x = data.normal(n * 3 * s * s)
        let labels = (0..<n).flatMap { _ in AlignClassifier.classCounts.map { data.int(0, $0 - 1) } }
        var params = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
        func naiveLoss(_ xd: [Double]) -> Double {
            let logits = Naive.alignLogits({ params[$0]! }, x: xd, n: n, size: s, channels: channels, strides: strides,
                                           featureCount: f, groups: groups)
            var total = 0.0
            for (a, k) in AlignClassifier.classCounts.enumerated() {
                let y = (0..<n).map { labels[$0 * 4 + a] }
                total += Naive.softmaxCrossEntropy(logits[a], labels: y, n: n, classes: k).reduce(0, +) / Double(n)
            }
            return total
        }
        store.zeroGrads()
        x.withUnsafeBufferPointer { classifier.forward($0.baseAddress!, n: n, size: s) }
        let losses = labels.withUnsafeBufferPointer { classifier.backward(labels: $0.baseAddress!) }
        XCTAssertEqual(losses.reduce(0, +), naiveLoss(x.doubles), accuracy: 1e-5, "loss")
        let probabilities = x.withUnsafeBufferPointer { classifier.probabilities($0.baseAddress!, count: n, size: s) }
        let logits = Naive.alignLogits({ params[$0]! }, x: x.doubles, n: n, size: s, channels: channels, strides: strides,
                                       featureCount: f, groups: groups)
        for (a, k) in AlignClassifier.classCounts.enumerated() {
            assertClose(probabilities[a], Naive.softmax(logits[a], n: n, classes: k).map(Float.init), "probabilities \(a)")
        }
        for slot in store.slots {
            let saved = params[slot.name]!
            GradCheck.check("align \(slot.name)", analytic: readGrad(store, slot), at: saved, tolerance: 1e-3) {
                params[slot.name] = $0
                defer { params[slot.name] = saved }
                return naiveLoss(x.doubles)
            }
        }
    }
}
