import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `ranks = N` (N > 1) in a process that mpirun did not start: the same command again as N ranks
/// of an Open MPI job on this machine, so that `dde-train --config configs/sd15.conf` runs on
/// two single-threaded ranks without the user typing mpirun. On two cores that beats one process
/// with two threads (scripts/bench-ranks.sh): each rank runs whole kernels on its own core
/// instead of splitting every small one across two.
public enum MPILauncher {
    /// mpirun's command line for `ranks` copies of `executable arguments...`: oversubscription
    /// allowed (the user asked for N), no binding to cores (containers often forbid it), plain
    /// copies between ranks (CMA needs ptrace rights containers lack), and `--allow-run-as-root`
    /// when running as root (CI does).
    public static func commandLine(mpirun: String, ranks: Int, executable: String, arguments: [String], asRoot: Bool) -> [String] {
        [mpirun] + (asRoot ? ["--allow-run-as-root"] : [])
            + ["--oversubscribe", "--bind-to", "none", "--mca", "btl_vader_single_copy_mechanism", "none", "-np", String(ranks), executable]
            + arguments
    }

    /// The first `mpirun` on `PATH`, or nil.
    public static func findMPIRun(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for folder in (path ?? "").split(separator: ":") {
            let candidate = String(folder) + "/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Replaces this process by mpirun running this executable with the same arguments on
    /// `ranks` ranks (their exit status becomes the command's). Returns only by throwing: mpirun
    /// is not installed, or it could not be started.
    public static func relaunch(ranks: Int) throws -> Never {
        guard let mpirun = findMPIRun() else {
            throw ClusterError("ranks = \(ranks) runs the command as \(ranks) MPI ranks, but mpirun is not on PATH: "
                + "install Open MPI ('apt-get install -y openmpi-bin libopenmpi-dev'; scripts/setup does) or set ranks=1")
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let line = commandLine(mpirun: mpirun, ranks: ranks, executable: executable, arguments: Array(CommandLine.arguments.dropFirst()),
                               asRoot: geteuid() == 0)
        FileHandle.standardError.write(Data("dde-train: ranks = \(ranks): running as \(ranks) MPI ranks (\(line.prefix(12).joined(separator: " ")) ...)\n".utf8))
        fflush(nil)  // every C stream: nothing buffered is lost to exec
        var argv: [UnsafeMutablePointer<CChar>?] = line.map { strdup($0) } + [nil]
        execv(mpirun, &argv)
        let reason = String(cString: strerror(errno))
        throw ClusterError("ranks = \(ranks): could not start \(mpirun): \(reason); set ranks=1 to run as one process")
    }
}
