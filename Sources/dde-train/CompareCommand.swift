import ArgumentParser
import DDECore
import Foundation

/// `dde-train --config X`: the whole comparison (testbed.md stage 6). The stages that exist so
/// far run, cached stages are reused; the preference stages (annotators, pairs, the six losses,
/// evaluation, the report) are issue 4 and are named as not yet built.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "The main job (the default): every stage for every method, then the report."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { config in
            let progress = ProgressLine()
            try FileManager.default.createDirectory(atPath: config.outDirectory, withIntermediateDirectories: true)
            try config.writeResolved(to: config.outDirectory)
            let pretrainer = Pretrainer(config: config, folder: config.outDirectory + "/pretrain", build: Build.info,
                                        observer: progress)
            let base = try pretrainer.run()
            let (model, _) = try Checkpoint.loadModel(base)
            let prompts = WorldImages(sampleSize: model.config.sampleSize, defectRate: 0).samplePrompts
            let result = Sampling.generate(model, prompts: prompts, perPrompt: 8, config: config)
            let grid = config.outDirectory + "/base-samples.png"
            try PNGFile.write(ImageGrid.make(result.images.map { $0.map(\.image) }, scale: 4), to: grid)
            print("base model: \(base)")
            print("base samples (rows: validation prompts, columns: seeds): \(grid)")
            print("not built yet: annotators, pairs, the six losses, evaluation, the comparison table (issue 4)")
        }
    }
}
