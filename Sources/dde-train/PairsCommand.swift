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
        try options.execute { config in
            let out = config.outDirectory, name = config.string("annotator")
            let base = config.string("base").isEmpty ? out + "/pretrain/model.safetensors" : config.string("base")
            let (model, _) = try Checkpoint.loadModel(base)
            let annotators = try AnnotatorSet.load(folder: out + "/annotators")
            let folder = out + "/pairs-\(name)"
            let s = try PairsBuilder.build(model, annotator: annotators.named(name)!, prompts: ShapesWorld.split().train,
                                           config: config, folder: folder)
            print(String(format: "%@/pairs.jsonl: %d pairs from %d prompts (mean score gap %.3f) in %.0f s", folder, s.pairs,
                         s.prompts, s.meanGap, s.seconds))
        }
    }
}
