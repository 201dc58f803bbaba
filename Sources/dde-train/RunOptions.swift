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
        "key=value overrides; they win over the config file. The keys this command reads are listed "
            + "above with their defaults; 'dde-train config' describes every key.",
        valueName: "key=value"))
    var overrides: [String] = []

    /// True when neither a config file nor an override was given.
    var isEmpty: Bool { configFile == nil && overrides.isEmpty }

    /// The resolved config, decoded into settings. A config error prints `error: <message>` on
    /// stderr and exits with status 64 (EX_USAGE) before anything is written.
    func resolve() throws -> RunSettings {
        do {
            return try RunSettings(ConfigLoader.load(file: configFile, overrides: overrides))
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("\(rankPrefix)error: \(error)\n".utf8))
            throw ExitCode(64)
        }
    }

    /// The common shape of a command: resolve the config (exit 64 on a config error), make the
    /// run's workspace from it (threads, convolution algorithm), take the run folder's lock (`lockRunFolder`: the commands that write into
    /// `out`), catch SIGINT/SIGTERM, run `body`. A stop on request exits with 130 after the
    /// checkpoint is written; a model config dde-train does not build (`ConfigError`) exits with 64;
    /// any other error becomes one line on stderr and exit status 1.
    ///
    /// Under `mpirun` the process first joins the MPI job (`Cluster.join`): ranks other than 0
    /// print no progress (their standard output goes to /dev/null) and prefix their errors with
    /// `rank N:`; a stop or a clean end finalizes MPI on every rank. With `ranks = N` > 1 and no
    /// mpirun around it, a command that computes (`onRanks`) starts itself again as N ranks
    /// (`MPILauncher`), once its config is known to be valid.
    func execute(lockRunFolder: Bool = true, onRanks: Bool = true, _ body: (RunSettings, Workspace) throws -> Void) throws {
        try joinCluster()
        let settings = try resolve()
        if onRanks && settings.ranks > 1 && !Cluster.launchedByMPI() {
            do {
                try MPILauncher.relaunch(ranks: settings.ranks)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(64)
            }
        }
        let workspace = settings.makeWorkspace()
        warnIfOversubscribed(threads: workspace.threads)
        var lock: RunLock?
        do {
            if lockRunFolder && !settings.compare.dryRun { lock = try RunLock(folder: settings.out) }
            StopSignals.install()
            try body(settings, workspace)
            withExtendedLifetime(lock) {}
            Cluster.leave()
        } catch let error as Interrupted {
            FileHandle.standardError.write(Data("\n\(rankPrefix)\(error)\n".utf8))
            Cluster.leave()
            throw ExitCode(130)
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch let error as ConfigError {
            // A model's config outside what dde-train builds (diffusers:DIR): a usage error too.
            FileHandle.standardError.write(Data("\(rankPrefix)error: \(error)\n".utf8))
            throw ExitCode(64)
        } catch {
            FileHandle.standardError.write(Data("\(rankPrefix)error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `Checkpoint.loadModel`, with its note on stderr when the file carries no checksum.
    func loadModel(_ path: String, workspace: Workspace) throws -> (model: TextToImageModel, file: SafeTensorsReader) {
        let loaded = try Checkpoint.loadModel(path, workspace: workspace)
        if let note = Checkpoint.unverifiedNote(loaded.file) { FileHandle.standardError.write(Data((rankPrefix + note + "\n").utf8)) }
        return loaded
    }

    /// The base model a command starts from: the `base` key, or the run's own pretrain stage,
    /// which must exist (else: what to set or run, instead of "cannot open").
    func basePath(_ settings: RunSettings) throws -> String {
        let path = settings.basePath
        if settings.baseFile.isEmpty && !FileManager.default.fileExists(atPath: path) {
            throw TrainingError("no base model: key 'base' is empty and \(path) does not exist; set base=PATH "
                                + "or run 'dde-train pretrain' with out=\(settings.out) first")
        }
        return path
    }

    /// The run's annotators (its `annotators` stage, which must exist, and the config's
    /// `annotator.NAME` ones).
    func loadAnnotators(_ settings: RunSettings, workspace: Workspace) throws -> AnnotatorSet {
        let folder = RunLayout(out: settings.out).annotators
        if !FileManager.default.fileExists(atPath: AnnotatorTrainer.classifierPath(folder)) {
            throw TrainingError("no annotators in \(folder) (the align classifier \(AnnotatorTrainer.classifierPath(folder)) is missing); "
                                + "run 'dde-train annotators' with out=\(settings.out) first, or point out= at a run that has them")
        }
        return try AnnotatorSet.load(folder: folder, workspace: workspace, external: settings.annotators.external)
    }

    /// "" on rank 0 (and alone), "rank N: " on the other ranks of an MPI job.
    private var rankPrefix: String { Cluster.current.rank == 0 ? "" : "rank \(Cluster.current.rank): " }

    private func joinCluster() throws {
        do {
            try Cluster.join()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if Cluster.current.rank != 0 {
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
        }
    }

    /// More ranks x threads on this machine than cores: each rank's threads fight the others'.
    private func warnIfOversubscribed(threads: Int) {
        let cluster = Cluster.current
        guard cluster.isParallel && cluster.rank == 0 else { return }
        let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? cluster.size
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if local * threads > cores {
            FileHandle.standardError.write(Data(("warning: \(local) ranks x \(threads) threads on a machine with \(cores) cores; "
                + "set threads=\(max(1, cores / local)) so that each rank's threads have cores of their own\n").utf8))
        }
    }
}
