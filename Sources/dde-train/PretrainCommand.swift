import ArgumentParser
import DDECore

/// `dde-train pretrain`: the base model (docs/TESTBED.md).
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain the base text-to-image model on the shapes world or data=folder:PATH; writes <out>/pretrain."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { settings, workspace in
            let progress = ProgressLine()
            try Pretrainer(settings: settings, workspace: workspace, folder: RunLayout(out: settings.out).pretrain, build: Build.info, observer: progress).run()
        }
    }
}
