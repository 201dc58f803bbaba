import Foundation

/// Crash-safe file writes: the bytes go to a temporary name in the same folder, are synced
/// to disk, and only then renamed over the destination, so a reader never sees a half-written
/// file and a kill mid-write leaves the previous version intact.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = "\(dir)/.\(url.lastPathComponent).tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw IOError(path, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var offset = 0
        let ok: Bool = data.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        let err = errno
        if !ok || fsync(fd) != 0 {
            close(fd)
            unlink(tmp)
            throw IOError(path, "write failed: \(String(cString: strerror(ok ? errno : err)))")
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let e = String(cString: strerror(errno))
            unlink(tmp)
            throw IOError(path, "cannot rename into place: \(e)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}

/// A file could not be read or written; names the file and what happened.
public struct IOError: Error, CustomStringConvertible {
    public let description: String
    public init(_ path: String, _ what: String) { description = "\(path): \(what)" }
}
