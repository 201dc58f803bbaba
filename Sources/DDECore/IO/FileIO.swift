#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The system calls, under names `FileIO`'s own `read` and `write...` do not shadow.
private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

/// Whole-file reads, and crash-safe whole-file writes, that fail with the system's reason.
///
/// `writeAtomically` goes to a temporary name in the same folder, is fsynced, then renamed over the
/// target (rename is atomic within a file system), and the folder is fsynced so the rename
/// itself survives a crash. A reader sees the old file or the new one, never half of either.
public enum FileIO {
    /// Replaces `path` with `bytes`, crash-safely.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = (folder == "/" ? "" : folder) + "/.\(base).tmp-\(getpid())"
        func fail(_ what: String) -> FileError {
            FileError(path: path, action: what, reason: String(cString: strerror(errno)))
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw fail("write the file") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = fail("write the file")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        if fsync(fd) != 0 {
            let error = fail("write the file (fsync)")
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let error = fail("replace the file")
            unlink(temporary)
            throw error
        }
        // Best effort: not every file system lets a folder be fsynced.
        let dir = open(folder, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    /// The whole file; throws a `FileError` with the system's reason (`No such file or directory`).
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw FileError(path: path, action: "read the file", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, action: "read the file", reason: String(cString: strerror(errno)))
            }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
