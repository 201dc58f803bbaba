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
        abstract: "Align a text-to-image diffusion model with preferences: DDE beside Uniform (Diffusion-DPO), Discounted, SFT and seven newer losses.",
        version: DDEVersion.string,
        subcommands: [CompareCommand.self, PretrainCommand.self, AnnotatorsCommand.self, PairsCommand.self, TrainCommand.self, SampleCommand.self, EvalCommand.self, ClaimsCommand.self, InspectCommand.self, ExportCommand.self, ForwardCommand.self, ConfigCommand.self, BenchCommand.self],
        defaultSubcommand: CompareCommand.self
    )

    /// `dde-train` alone prints the usage and runs nothing (the main job needs its config);
    /// `dde-train SUBCOMMAND --help` (or `help SUBCOMMAND`) adds the keys that subcommand reads,
    /// by section, from the key table (`CommandKeys`). Everything else is ArgumentParser's.
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.isEmpty {
            print(usage)
            return
        }
        let asksHelp = args.contains("--help") || args.contains("-h") || args.first == "help"
        let name = args.first == "help" ? args.dropFirst().first : args.first
        if asksHelp, let name, let command = configuration.subcommands.first(where: { $0._commandName == name }) {
            print(helpMessage(for: command))
            print("KEYS (what `\(name)` reads, by section: key = default  what it does; `dde-train config` describes every key):")
            print(CommandKeys.help(for: name), terminator: "")
            return
        }
        main(args)
    }

    static var usage: String {
        """
        dde-train \(DDEVersion.string): \(configuration.abstract)

        The main job (compare, the default subcommand): every stage, every method, the report:
          dde-train --config configs/sd15.conf [key=value ...]
        Any subcommand:
          dde-train SUBCOMMAND [--config FILE] [key=value ...]     (overrides win over the file)

        \(helpMessage().components(separatedBy: "SUBCOMMANDS:").last.map { "SUBCOMMANDS:" + $0 } ?? helpMessage())
        Keys: `dde-train config` lists every key (type, default, unit, allowed values, the stages it
        changes, meaning), `dde-train SUBCOMMAND --help` the ones a subcommand reads; the README's
        "Configuration keys" is the same table.
        """
    }
}
