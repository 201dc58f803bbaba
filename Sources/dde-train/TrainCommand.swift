import ArgumentParser
import DDECore
import Foundation

/// `dde-train train loss=NAME`: fine-tunes the base model on the pairs (`pairs=PATH`, or the
/// pairs stage's output for `annotator`); writes <out>/train-<loss>-<annotator>.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune the base model with loss=" + PreferenceLoss.Kind.allCases.map(\.rawValue).joined(separator: "|")
            + " on preference pairs."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { settings, workspace in
            // Held here: `Comparison` keeps its observer weakly (a temporary would be gone, and
            // with it every progress line and note of the fine-tune).
            let progress = ProgressLine()
            let base = try options.basePath(settings), loss = settings.fineTune.loss.kind.rawValue
            let (model, _) = try options.loadModel(base, workspace: workspace)
            if settings.pairsFile.isEmpty {
                // This run's own pairs: the same stage, signature and folder as the main job.
                let run = Comparison.Run(method: loss, annotator: settings.pairs.annotator, seed: Int(settings.seed))
                let folder = try Comparison(settings: settings, workspace: workspace, build: Build.info, observer: progress)
                    .fineTune(run, base: base, size: model.sampleSize)
                print("\(folder)/model.safetensors")
                return
            }
            // The pairs, ties and skipped lines are counted in the notes (stderr); stdout is the model's path.
            let (folder, _) = try Comparison(settings: settings, workspace: workspace, build: Build.info, observer: progress)
                .fineTune(pairsFile: settings.pairsFile, base: base, size: model.sampleSize)
            print("\(folder)/model.safetensors")
        }
    }
}
