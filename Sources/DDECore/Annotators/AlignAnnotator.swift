import Foundation

/// The `align` annotator (the testbed's CLIP analog): how surely the trained classifier sees
/// the prompt in the image,
///
///     align(x, prompt) = (1/4) Σ_{a ∈ shape, colour, background, size} p_a(prompt_a | x)
///
/// with `p_a` the softmax of the classifier's head a (`AlignClassifier`). 1 when every head is
/// certain of the prompt's value, about 1/K_a per head on an image that shows none of them.
///
/// The probability of the prompt's value is taken from the Float logits in Double,
/// `p = 1 / Σ_j exp(l_j - l_y)`: a confident head gives `1 - 1e-9`, not a Float that rounds
/// to exactly 1, so twins the classifier reads equally well still differ by its confidence
/// instead of tying.
public final class AlignAnnotator: ShapesAnnotator, @unchecked Sendable {
    public let name = "align"

    /// The classifier's weights.
    public var contentDigest: ContentDigest {
        var d = ContentDigest()
        d.add("align classifier")
        d.add(classifier.store.params.pointer, count: classifier.store.count)
        return d
    }
    public let classifier: AlignClassifier

    public init(classifier: AlignClassifier) {
        self.classifier = classifier
    }

    public func scores(images: UnsafePointer<Float>, prompts: [ShapesPrompt], count: Int, size: Int) -> [Double] {
        precondition(prompts.count == count, "align: \(count) images but \(prompts.count) prompts")
        let logits = classifier.outputs(images, count: count, size: size).logits
        return prompts.enumerated().map { i, prompt in
            var total = 0.0
            for (a, value) in prompt.attributes.enumerated() {
                let k = AlignClassifier.classCounts[a], row = i * k
                let target = Double(logits[a][row + value])
                var sum = 0.0
                for j in 0..<k { sum += Foundation.exp(Double(logits[a][row + j]) - target) }
                total += 1 / sum
            }
            return total / 4
        }
    }
}
