import ArgumentParser
import DDECore
import Foundation

/// `dde-train --config X`: the whole comparison (testbed.md stage 6). Today it runs the stages
/// that exist, reusing any made with the same settings: the base model, the annotators, and the
/// base model's evaluation on the test prompts (the table's first row). Pairs, the fine-tunes
/// and the paired comparison are issue 4.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "The main job (the default): every stage for every method, then the report."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { config in
            let progress = ProgressLine()
            let out = config.outDirectory
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try config.writeResolved(to: out)
            let base = try Pretrainer(config: config, folder: out + "/pretrain", build: Build.info, observer: progress).run()
            let annotatorTrainer = AnnotatorTrainer(config: config, folder: out + "/annotators", build: Build.info, observer: progress)
            if let cached = annotatorTrainer.cachedClassifier {
                progress.note("annotators: reusing \(cached) (same settings)")
            } else {
                try annotatorTrainer.run()
            }
            let (model, _) = try Checkpoint.loadModel(base)
            let samples = Sampling.generate(model, prompts: WorldImages(sampleSize: model.config.sampleSize, defectRate: 0).samplePrompts,
                                            perPrompt: 8, config: config)
            try PNGFile.write(ImageGrid.make(samples.images.map { $0.map(\.image) }, scale: 4), to: out + "/base-samples.png")
            let annotators = try AnnotatorSet.load(folder: out + "/annotators")
            let evaluation = ModelEvaluation.run(model, annotators: annotators, prompts: ShapesWorld.split().test, config: config)
            var table = "model  " + AnnotatorSet.names.map { $0.padding(toLength: 26, withPad: " ", startingAt: 0) }.joined()
            table += "\nbase   "
            for name in AnnotatorSet.names {
                let s = evaluation.summary(name, resamples: config.int("eval.bootstrap"), seed: UInt64(config.int("eval.seed")))
                table += String(format: "%.4f [%.4f, %.4f]", s.mean, s.low, s.high).padding(toLength: 26, withPad: " ", startingAt: 0)
            }
            print("test prompts x \(evaluation.perPrompt) images, DDIM \(config.int("eval.steps")) steps, guidance \(config.double("eval.guidance")); mean [95% bootstrap interval]")
            print(table)
            try FileIO.writeAtomically(Array((table + "\n").utf8), to: out + "/base-scores.txt")
            print("base model: \(base); samples: \(out)/base-samples.png")
            print("not wired into the main job yet: preference pairs, the fine-tunes (sft, uniform, discounted, dde), the paired comparison and the report (issue 4)")
        }
    }
}
