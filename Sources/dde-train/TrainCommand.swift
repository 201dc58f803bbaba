import ArgumentParser
import DDECore
import Foundation

/// `dde-train train loss=NAME`: fine-tunes the base model on the pairs (`pairs=PATH`, or the
/// pairs stage's output for `annotator`); writes <out>/train-<loss>-<annotator>.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune the base model with loss=sft|uniform|discounted|dde|dde-single|dde-step on preference pairs."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { config in
            // Held here: `Comparison` keeps its observer weakly (a temporary would be gone, and
            // with it every progress line and note of the fine-tune).
            let progress = ProgressLine()
            let annotator = config.string("annotator")
            let base = Pretrainer.basePath(config)
            let (model, _) = try Checkpoint.loadModel(base)
            if config.string("pairs").isEmpty {
                // This run's own pairs: the same stage, signature and folder as the main job.
                let run = Comparison.Run(method: config.string("loss"), annotator: annotator, seed: config.int("seed"))
                let folder = try Comparison(config: config, build: Build.info, observer: progress)
                    .fineTune(run, base: base, size: model.config.sampleSize)
                print("\(folder)/model.safetensors")
                return
            }
            let (folder, pairs) = try Comparison(config: config, build: Build.info, observer: progress)
                .fineTune(pairsFile: config.string("pairs"), base: base, size: model.config.sampleSize)
            print("\(folder)/model.safetensors: \(config.string("loss")) on \(pairs.pairs.count) pairs")
        }
    }
}
