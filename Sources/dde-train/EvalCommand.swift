import ArgumentParser
import DDECore
import Foundation

/// `dde-train eval checkpoint=PATH`: one model scored on the test prompts by every annotator
/// (the annotators stage of the same run folder must exist: `dde-train annotators`).
/// The paired comparison against the base, the beat ratio and the distribution metrics come
/// with the compare stage (issue 4).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score checkpoint=PATH on the test prompts with every annotator (mean and 95% bootstrap interval)."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute(lockRunFolder: false) { settings, workspace in
            let checkpoint = settings.checkpoint
            guard !checkpoint.isEmpty else { throw ValidationError("eval needs checkpoint=PATH") }
            let (model, _) = try options.loadModel(checkpoint, workspace: workspace)
            model.store.freeze()
            let annotators = try options.loadAnnotators(settings, workspace: workspace)
            let started = Stopwatch.now()
            let evaluation = ModelEvaluation.run(model, annotators: annotators, prompts: ShapesWorld.split().test, settings: settings)
            print(String(format: "%@: %d test prompts x %d images, DDIM %d steps, guidance %g (%.0f s)", checkpoint,
                         evaluation.prompts.count, evaluation.perPrompt, settings.eval.steps, settings.eval.guidance,
                         Stopwatch.now() - started))
            for name in AnnotatorSet.names {
                let s = evaluation.summary(name, resamples: settings.eval.bootstrap, seed: settings.eval.seed)
                print("  " + name.padding(toLength: 10, withPad: " ", startingAt: 0)
                      + String(format: " %.4f  [%.4f, %.4f]", s.mean, s.low, s.high))
            }
        }
    }
}
