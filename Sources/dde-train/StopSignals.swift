import DDECore
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM (Ctrl-C, `kill`): the first asks the run to stop after the current step
/// with a checkpoint (`Interruption`); the second exits at once with 130. Exiting mid-write is
/// safe: checkpoints and reports are written to a temporary name and renamed, so the last good
/// one is never touched.
enum StopSignals {
    /// Written from the handler with write(2): prepared before the handler is installed, since
    /// a signal handler may not allocate.
    nonisolated(unsafe) private static var message: [UInt8] = []

    static func install() {
        message = Array("\ndde-train: stopping after the current step (a checkpoint is written); press Ctrl-C again to stop at once\n".utf8)
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    private static let handler: @convention(c) (Int32) -> Void = { _ in
        if Interruption.request() == 1 {
            StopSignals.message.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        } else {
            _exit(130)
        }
    }
}
