import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One run per run folder: an exclusive `flock` on `<folder>/.lock`, held while the process
/// lives. The kernel drops it when the process ends, killed or not, so a stale lock never
/// blocks the next run. A second run pointed at the same folder is refused with the holder's pid.
public final class RunLock {
    public let path: String
    private let fd: Int32

    /// Takes the lock on `folder` (created if missing), or throws naming the process holding it.
    public init(folder: String) throws {
        path = folder + "/.lock"
        try FileIO.createFolder(folder)
        // Under MPI the job holds the lock through rank 0 (every rank makes a RunLock).
        guard Cluster.current.writesFiles else {
            fd = -1
            return
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileError(path: path, action: "create the run folder's lock file", reason: String(cString: strerror(errno)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = RunLock.readPID(fd)
            close(fd)
            throw FileError(path: folder, action: "use the run folder",
                            reason: "another dde-train run is using it" + (holder.map { " (pid \($0))" } ?? "")
                                + "; wait for it to finish, or choose another out=")
        }
        ftruncate(fd, 0)
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress!, text.count, 0) }
        self.fd = fd
    }

    deinit {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }

    private static func readPID(_ fd: Int32) -> Int? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 32, 0) }
        guard n > 0 else { return nil }
        return Int(String(decoding: bytes[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
