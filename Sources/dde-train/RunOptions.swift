import ArgumentParser
import DDECore
import Foundation

/// The options every subcommand shares (`@OptionGroup var options: RunOptions`): a config file
/// and `key=value` overrides, resolved through `ConfigLoader`.
struct RunOptions: ParsableArguments {
    @Option(name: .customLong("config"),
            help: ArgumentHelp("A config file of 'key = value' lines (see 'dde-train config').", valueName: "file"))
    var configFile: String?

    @Argument(help: ArgumentHelp(
        "key=value overrides; they win over the config file. Keys: "
            + ConfigKeys.all.map(\.name).joined(separator: ", ") + " ('dde-train config' describes each).",
        valueName: "key=value"))
    var overrides: [String] = []

    /// True when neither a config file nor an override was given.
    var isEmpty: Bool { configFile == nil && overrides.isEmpty }

    /// The resolved config. A config error prints `error: <message>` on stderr and exits with
    /// status 64 (EX_USAGE) before anything is written.
    func resolve() throws -> Config {
        do {
            return try ConfigLoader.load(file: configFile, overrides: overrides)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(64)
        }
    }

    /// The common shape of a command: resolve the config (exit 64 on a config error), set the
    /// thread count, take the run folder's lock (`lockRunFolder`: the commands that write into
    /// `out`), catch SIGINT/SIGTERM, run `body`. A stop on request exits with 130 after the
    /// checkpoint is written; any other error becomes one line on stderr and exit status 1.
    func execute(lockRunFolder: Bool = true, _ body: (Config) throws -> Void) throws {
        let config = try resolve()
        Threads.configure(config.int("threads"))
        Conv2d.winograd = Conv2d.WinogradSetting(rawValue: config.string("conv.winograd"))!
        var lock: RunLock?
        do {
            if lockRunFolder && !config.bool("dry_run") { lock = try RunLock(folder: config.outDirectory) }
            StopSignals.install()
            try body(config)
            withExtendedLifetime(lock) {}
        } catch let error as Interrupted {
            FileHandle.standardError.write(Data("\n\(error)\n".utf8))
            throw ExitCode(130)
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
