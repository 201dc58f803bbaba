import ArgumentParser
import DDECore
import Foundation

/// `dde-train eval checkpoint=PATH`: one model scored on the run's test prompts (the world's,
/// `prompts = FILE`'s or a data folder's: `RunPrompts`) by every annotator that can read them
/// (the annotators stage of the same run folder must exist: `dde-train annotators`).
/// The paired comparison against the base, the beat ratio and the distribution metrics come
/// with the compare stage (issue 4).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score checkpoint=PATH on the test prompts (prompts=FILE: its test lines) with every annotator (mean and 95% bootstrap interval)."
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
            let runPrompts = try RunPrompts.resolve(settings.data)
            let prompts = try runPrompts.evaluated(settings.eval.prompts)
            let able = annotators.able(toScore: prompts)
            if let outside = Caption.firstOutsideShapesWorld(prompts) {
                print("\(outside.place): '\(outside.text.excerpt)' is not a shapes-world caption: align, aesthetic and pick are left out")
            }
            guard !able.isEmpty else {
                throw TrainingError("no annotator can score these prompts; define one with annotator.NAME = COMMAND (README, Your own scorer)")
            }
            let evaluation = try ModelEvaluation.run(model, annotators: able, prompts: prompts, settings: settings)
            print(String(format: "%@: %d %@ of %@ x %d images, DDIM %d steps, guidance %g (%.0f s)", checkpoint,
                         evaluation.prompts.count, settings.eval.prompts.phrase, runPrompts.source, evaluation.perPrompt,
                         settings.eval.steps, settings.eval.guidance, Stopwatch.now() - started))
            for name in evaluation.annotators {
                let s = evaluation.summary(name, resamples: settings.eval.bootstrap, seed: settings.eval.seed)
                print("  " + name.padding(toLength: 10, withPad: " ", startingAt: 0)
                      + String(format: " %.4f  [%.4f, %.4f]", s.mean, s.low, s.high))
            }
        }
    }
}
