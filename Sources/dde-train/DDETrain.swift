import ArgumentParser
import DDECore

/// The `dde-train` command line: a thin shell over DDECore. Every subcommand takes
/// `--config FILE` and any number of `key=value` overrides the same way.
@main
struct DDETrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dde-train",
        abstract: "Align a text-to-image diffusion model with preferences: DDE vs Uniform, Discounted and SFT.",
        version: DDEVersion.string,
        subcommands: [CompareCommand.self, PretrainCommand.self, AnnotatorsCommand.self, PairsCommand.self, TrainCommand.self, SampleCommand.self, EvalCommand.self, InspectCommand.self, ExportCommand.self, ConfigCommand.self, BenchCommand.self],
        defaultSubcommand: CompareCommand.self
    )
}
