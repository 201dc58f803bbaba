// Eval: how models are scored. `ModelEvaluation` samples a model on the evaluation prompts (the
// same noise for every model) and scores every image with each annotator; `PairedComparison` sets
// a tuned model against the base image by image with paired bootstrap intervals;
// `DistributionMetrics` adds the Frechet distance, the Inception-Score analog and `ColourError`.
// Builds on Sampling, Annotators (the align classifier's features), World and Cluster.

import Foundation

/// Scores one model on the test prompts with every annotator given (docs/TESTBED.md, Evaluation): each test
/// prompt x `eval.images_per_prompt` images, DDIM `eval.steps`, guidance `eval.guidance`; image j
/// of every prompt starts from the noise of seed `eval.seed + j`, the same for every model, so
/// each tuned image has a base twin.
public struct ModelEvaluation {
    public let prompts: [Caption]
    /// The annotators' names, in the order they scored (the report's columns).
    public let annotators: [String]
    public let perPrompt: Int
    /// Per annotator name: scores in prompt-major order (prompt i, image j at i * perPrompt + j).
    public let scores: [String: [Double]]
    /// The generated images (CHW in [-1, 1], clamped), prompt-major.
    public let images: [[Float]]

    public static func run(_ model: TextToImageModel, annotators: [any Annotator], prompts: [Caption],
                           settings: RunSettings) throws -> ModelEvaluation {
        let eval = settings.eval, n = eval.imagesPerPrompt
        let result = Sampling.generate(model, prompts: prompts.map(\.text), perPrompt: n, sampler: settings.sampler,
                                       schedule: settings.schedule, seed: eval.seed, steps: eval.steps, guidance: Float(eval.guidance))
        let images = result.images.flatMap { $0.map { $0.x0.map { min(1, max(-1, $0)) } } }
        let flat = images.flatMap { $0 }
        let repeated = prompts.flatMap { [String](repeating: $0.text, count: n) }
        var scores: [String: [Double]] = [:]
        // The images split over the ranks of an MPI job.
        let d = 3 * model.sampleSize * model.sampleSize
        for annotator in annotators {
            scores[annotator.name] = try Cluster.current.gather(count: repeated.count) { mine in
                try annotator.scores(Array(flat[(mine.lowerBound * d)..<(mine.upperBound * d)]), captions: Array(repeated[mine]),
                                     size: model.sampleSize)
            }
        }
        return ModelEvaluation(prompts: prompts, annotators: annotators.map(\.name), perPrompt: n, scores: scores, images: images)
    }

    /// The mean over images and a 95% bootstrap interval over prompts (prompts resampled with
    /// replacement, each carrying its images), from a fixed stream.
    public func summary(_ annotator: String, resamples: Int, seed: UInt64) -> (mean: Double, low: Double, high: Double) {
        let s = scores[annotator]!
        let perPromptMeans = (0..<prompts.count).map { i in s[(i * perPrompt)..<((i + 1) * perPrompt)].reduce(0, +) / Double(perPrompt) }
        let mean = perPromptMeans.reduce(0, +) / Double(perPromptMeans.count)
        var rng = RandomStream(seed: seed, stream: 0x626F_6F74)
        var means: [Double] = []
        for _ in 0..<resamples {
            var total = 0.0
            for _ in 0..<perPromptMeans.count { total += perPromptMeans[rng.int(below: perPromptMeans.count)] }
            means.append(total / Double(perPromptMeans.count))
        }
        means.sort()
        return (mean, means[Int(0.025 * Double(resamples))], means[min(resamples - 1, Int(0.975 * Double(resamples)))])
    }
}
