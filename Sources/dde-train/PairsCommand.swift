import ArgumentParser
import DDECore
import Foundation

/// `dde-train pairs annotator=NAME`: preference pairs from the base model, labelled by one
/// annotator; writes <out>/pairs-<annotator>/pairs.jsonl and its images.
struct PairsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs",
        abstract: "Sample the base model per training prompt, score with annotator=NAME, write pairs.jsonl (Pick-a-Pic columns)."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { settings, workspace in
            let (model, _) = try options.loadModel(try options.basePath(settings), workspace: workspace)
            model.store.freeze()
            let annotators = try options.loadAnnotators(settings, workspace: workspace)
            let progress = ProgressLine()  // held: `Comparison` keeps its observer weakly
            let path = try Comparison(settings: settings, workspace: workspace, build: Build.info, observer: progress)
                .pairs(annotator: settings.pairs.annotator, base: model, annotators: annotators)
            print(path)
        }
    }
}
