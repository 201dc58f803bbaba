import ArgumentParser
import DDECore

/// `dde-train pretrain`: the base model (testbed.md stage 1).
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain the base text-to-image model on the shapes world or data=folder:PATH; writes <out>/pretrain."
    )

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.execute { config in
            let progress = ProgressLine()
            try Pretrainer(config: config, folder: config.outDirectory + "/pretrain", build: Build.info, observer: progress).run()
        }
    }
}
