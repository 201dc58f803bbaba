// dde-train: the command line, kept thin. `DDETrain` lists the subcommands (compare, the default;
// pretrain, annotators, pairs, train, sample, eval, claims, inspect, export, forward, config, bench), one
// `*Command` file each; `RunOptions` resolves `--config` and `key=value` overrides into
// `RunSettings`, joins an MPI job, sets the threads, takes the run lock and turns errors into exit
// codes. `ProgressLine` is the `StageObserver` that prints, and `StopSignals` turns SIGINT and
// SIGTERM into an `Interruption`. Everything else is DDECore's, which re-exports DDENumerics.

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
        subcommands: [CompareCommand.self, PretrainCommand.self, AnnotatorsCommand.self, PairsCommand.self, TrainCommand.self, SampleCommand.self, EvalCommand.self, ClaimsCommand.self, InspectCommand.self, ExportCommand.self, ForwardCommand.self, ConfigCommand.self, BenchCommand.self],
        defaultSubcommand: CompareCommand.self
    )
}
