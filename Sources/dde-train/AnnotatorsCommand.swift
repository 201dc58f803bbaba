import ArgumentParser
import DDECore

/// `dde-train annotators`: trains the align classifier (docs/TESTBED.md); writes
/// <out>/annotators/align.safetensors. Reuses a classifier made with the same settings.
struct AnnotatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotators",
        abstract: "Build the three annotators (train the align classifier); writes <out>/annotators."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { settings, workspace in
            let progress = ProgressLine()
            try AnnotatorTrainer(settings: settings, workspace: workspace, folder: RunLayout(out: settings.out).annotators, build: Build.info,
                                 observer: progress).run()
        }
    }
}
