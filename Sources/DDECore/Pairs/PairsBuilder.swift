import Foundation

/// The `pairs` stage (testbed.md): per training prompt, `pairs.samples_per_prompt` images from
/// the base model (DDIM with the `sample.*` keys and guidance, distinct seeds), scored by one
/// annotator; the best is paired with the worst, then the second best with the second worst and
/// so on while the gap is at least `pairs.min_gap`; equal scores are never paired. Written as
/// `pairs.jsonl` (Pick-a-Pic columns) plus `images/*.png`, and `signature.txt`. The same on the
/// validation prompts gives `heldout.jsonl`, the held-out pairs of losses.md's held-out implicit
/// accuracy (file names carry the caption's id, `Caption.id`, so the two sets share `images/`).
public enum PairsBuilder {
    public struct Summary {
        public var pairs: Int
        public var prompts: Int
        public var meanGap: Double
        public var seconds: Double
    }

    /// The base model's images the pairs are chosen from: `pairs.samples_per_prompt` per prompt,
    /// column j of every prompt from seed `pairs.seed + j`. They do not depend on the annotator,
    /// so the main job samples them once for every annotator.
    public static func sample(_ model: TextToImageModel, prompts: [Caption], settings: RunSettings) -> Sampling.Result {
        Sampling.generate(model, prompts: prompts.map(\.text), perPrompt: settings.pairs.samplesPerPrompt, sampler: settings.sampler,
                          schedule: settings.schedule, seed: settings.pairs.seed)
    }

    /// Scores `sampled` (from `sample`, or sampled here when nil) and writes the pairs.
    public static func build(_ model: TextToImageModel, annotator: any Annotator, prompts: [Caption], settings: RunSettings,
                             folder: String, file: String = "pairs.jsonl", sampled: Sampling.Result? = nil) throws -> Summary {
        let started = Stopwatch.now()
        let images = folder + "/images"
        try FileIO.createFolder(images)
        for f in [folder, images] { FileIO.removeStaleTemporaries(in: f) }
        let n = settings.pairs.samplesPerPrompt, minGap = settings.pairs.minGap
        let result = sampled ?? sample(model, prompts: prompts, settings: settings)
        precondition(result.images.count == prompts.count && result.images.allSatisfy { $0.count == n }, "pairs: sampled images do not match")
        var rows: [PreferencePairs.Row] = []
        var gaps = 0.0
        let size = model.sampleSize
        // Every image of a rank's prompts in one call (an external annotator runs its command
        // once); the prompts split over the ranks of an MPI job.
        let allScores = try Cluster.current.gather(count: prompts.count, itemSize: n) { mine in
            let flat = mine.flatMap { i in result.images[i].flatMap { $0.x0.map { min(1, max(-1, $0)) } } }
            return try annotator.scores(flat, captions: mine.flatMap { [String](repeating: prompts[$0].text, count: n) }, size: size)
        }
        for (i, prompt) in prompts.enumerated() {
            let generated = result.images[i]
            let scores = Array(allScores[(i * n)..<((i + 1) * n)])
            let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            var k = 0
            while k < n / 2 {
                let best = order[k], worst = order[n - 1 - k]
                let gap = scores[best] - scores[worst]
                if gap <= 0 || (k > 0 && gap < minGap) { break }
                let name0 = String(format: "p%03d-%d.png", prompt.id, best), name1 = String(format: "p%03d-%d.png", prompt.id, worst)
                // Alternate which side the winner is on, so label_0 is not always 1.
                let winnerFirst = rows.count % 2 == 0
                try PNGFile.write(generated[best].image, to: images + "/" + name0)
                try PNGFile.write(generated[worst].image, to: images + "/" + name1)
                rows.append(PreferencePairs.Row(caption: prompt.text, image_0: "images/" + (winnerFirst ? name0 : name1),
                                                image_1: "images/" + (winnerFirst ? name1 : name0), label_0: winnerFirst ? 1 : 0,
                                                score_0: winnerFirst ? scores[best] : scores[worst],
                                                score_1: winnerFirst ? scores[worst] : scores[best], annotator: annotator.name))
                gaps += gap
                k += 1
            }
        }
        try PreferencePairs.write(rows, to: folder + "/" + file)
        return Summary(pairs: rows.count, prompts: prompts.count, meanGap: rows.isEmpty ? 0 : gaps / Double(rows.count),
                       seconds: Stopwatch.now() - started)
    }
}
