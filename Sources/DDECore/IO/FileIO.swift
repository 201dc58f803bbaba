// IO: files. `FileIO` does whole-file reads, crash-safe writes (temporary name, fsync, rename) and
// appends, fails with a one-line `FileError`, and under MPI lets only rank 0 write (Cluster);
// `SafeTensorsReader` and `SafeTensorsWriter` read (strictly validated) and write safetensors, and
// a `ParameterStore` extension maps models and checkpoints onto them; `PNGFile` and `RGBImage`
// are images through libpng; `RunLock` keeps one run per folder; `SimulatedDisk` fills the disk in
// tests.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The system calls, under names `FileIO`'s own `read` and `write...` do not shadow.
private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    let allowed = SimulatedDisk.reserve(n)
    guard allowed > 0 || n == 0 else {
        errno = ENOSPC
        return -1
    }
    let written = write(fd, p, allowed)
    if written >= 0 { SimulatedDisk.refund(allowed - written) }
    return written
}

/// Whole-file reads, crash-safe whole-file writes, appends that leave no partial line, and
/// folders, all failing with a one-line `FileError` that names the path and the system's reason.
///
/// `writeAtomically` goes to a temporary name in the same folder, is fsynced, then renamed over the
/// target (rename is atomic within a file system), and the folder is fsynced so the rename
/// itself survives a crash. A reader sees the old file or the new one, never half of either;
/// a failed write (disk full) removes its temporary file and leaves the target as it was.
///
/// Under MPI only rank 0 touches the file system: every rank calls the same writes (they run the
/// same code), rank 0 makes them between two barriers that every rank passes (`Cluster.writing`).
public enum FileIO {
    /// Replaces `path` with `bytes`, crash-safely.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        try Cluster.current.writing({ try writeAtomicallyHere(bytes, to: path) }, otherwise: ())
    }

    /// `writeAtomically` by this process alone, under MPI too: for scratch files only this rank
    /// reads (the images an external annotator scores on each rank).
    public static func writeAtomicallyOnThisRank(_ bytes: [UInt8], to path: String) throws {
        try writeAtomicallyHere(bytes, to: path)
    }

    private static func writeAtomicallyHere(_ bytes: [UInt8], to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = (folder == "/" ? "" : folder) + "/" + temporaryName(base)
        func fail(_ what: String) -> FileError {
            FileError(path: path, action: what, reason: String(cString: strerror(errno)))
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw fail("write the file") }
        if let code = writeAll(fd, bytes) {
            errno = code
            let error = fail("write the file")
            close(fd)
            unlink(temporary)
            throw error
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

    /// Appends `bytes` to `path` (created if missing). A failed append (disk full) cuts the file
    /// back to its old length, so a log never ends in half a line.
    public static func append(_ bytes: [UInt8], to path: String) throws {
        try Cluster.current.writing({ try appendHere(bytes, to: path) }, otherwise: ())
    }

    private static func appendHere(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw FileError(path: path, action: "append to the file", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        let before = fstat(fd, &st) == 0 ? st.st_size : -1
        if let code = writeAll(fd, bytes) {
            if before >= 0 { _ = ftruncate(fd, before) }
            throw FileError(path: path, action: "append to the file", reason: String(cString: strerror(code)))
        }
    }

    /// Creates `path` and any missing parents. Throws naming the folder and the reason, e.g.
    /// `runs/x/out: cannot create the folder (Not a directory: runs/x is a file)`.
    public static func createFolder(_ path: String) throws {
        try Cluster.current.writing({ try createFolderHere(path) }, otherwise: ())
    }

    private static func createFolderHere(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            if mkdir(prefix, 0o755) == 0 { continue }
            let code = errno
            var st = stat()
            let isFolder = stat(prefix, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            if code == EEXIST && isFolder { continue }
            var reason = String(cString: strerror(code == EEXIST ? ENOTDIR : code))
            if code == EEXIST || code == ENOTDIR {
                reason += ": " + (code == EEXIST ? prefix : firstFile(on: prefix)) + " is a file"
            }
            throw FileError(path: path, action: "create the folder", reason: reason)
        }
    }

    /// Why `path` cannot be read as a file, phrased to follow a key's name ("'x.bin' does not
    /// exist", "... is a folder, not a file", "... is a device, not a file"), or nil when it can.
    /// The config's input-file keys are checked with it when the config is loaded.
    public static func problemReadingFile(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return "'\(path.excerpt)' \(errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))")" }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return "'\(path.excerpt)' is a folder, not a file"
        case S_IFCHR, S_IFBLK: return "'\(path.excerpt)' is a device, not a file"
        default: return access(path, R_OK) == 0 ? nil : "'\(path.excerpt)' cannot be read (\(String(cString: strerror(errno))))"
        }
    }

    /// Why `path` is not an existing folder ("the folder 'x' does not exist", "'x' is a file,
    /// not `what`"), or nil when it is one: the config's folder keys (`reuse`, `data=folder:`).
    public static func problemWithFolder(_ path: String, what: String) -> String? {
        var isFolder: ObjCBool = false
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            return "the folder '\(path.excerpt)' does not exist"
        }
        return isFolder.boolValue ? nil : "'\(path.excerpt)' is a file, not \(what)"
    }

    /// The whole file; throws a `FileError` with the system's reason (`No such file or directory`).
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw FileError(path: path, action: "read the file", reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        // A device such as /dev/zero would never end, a folder reads as an error: refuse both
        // (pipes stay readable: `--config <(...)`).
        var st = stat()
        if fstat(fd, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR || type == S_IFCHR || type == S_IFBLK {
                throw FileError(path: path, action: "read the file", reason: type == S_IFDIR ? "it is a folder" : "it is a device, not a file")
            }
        }
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

    /// The name `writeAtomically` writes `base` under before the rename: hidden, and carrying
    /// the writer's pid, so a temporary left by a killed run is told from one being written.
    static func temporaryName(_ base: String, pid: Int32 = getpid()) -> String { ".\(base).tmp-\(pid)" }

    /// Deletes the temporary files that runs killed mid-write left in `folder` (other processes'
    /// `.NAME.tmp-PID`; never a finished file). Returns their names. Stages call it on their
    /// folders when they start (and write checkpoints); one run per folder (`RunLock`) makes
    /// every other pid's temporary a dead one.
    @discardableResult
    public static func removeStaleTemporaries(in folder: String) -> [String] {
        Cluster.current.writing({ removeStaleTemporariesHere(in: folder) }, otherwise: [])
    }

    /// Deletes `path` if it exists (a file, or a folder with its contents).
    public static func remove(_ path: String) throws {
        try Cluster.current.writing({
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        }, otherwise: ())
    }

    /// Copies `from` (a file or a folder) to `to`, through a temporary name in `to`'s folder
    /// and a rename, so a copy cut short is never taken for a whole one.
    public static func copy(_ from: String, to: String) throws {
        try Cluster.current.writing({
            let fm = FileManager.default
            let slash = to.lastIndex(of: "/")
            let folder = slash.map { String(to[..<$0]) } ?? "."
            let temporary = folder + "/" + temporaryName(slash.map { String(to[to.index(after: $0)...]) } ?? to)
            try? fm.removeItem(atPath: temporary)
            try fm.copyItem(atPath: from, toPath: temporary)
            try fm.moveItem(atPath: temporary, toPath: to)
        }, otherwise: ())
    }

    private static func removeStaleTemporariesHere(in folder: String) -> [String] {
        guard let dir = opendir(folder) else { return [] }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let parts = name.split(separator: "-", omittingEmptySubsequences: false)
            guard name.hasPrefix("."), parts.count > 1, parts[parts.count - 2].hasSuffix(".tmp"),
                  let pid = Int32(parts[parts.count - 1]), pid != getpid() else { continue }
            names.append(name)
        }
        closedir(dir)
        for name in names { unlink(folder + "/" + name) }
        return names.sorted()
    }

    /// Writes every byte (retrying short writes and EINTR); nil, or the errno of the failure.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            written += n
        }
        return nil
    }

    /// The first component of `path` that exists and is not a folder (for ENOTDIR messages).
    private static func firstFile(on path: String) -> String {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            var st = stat()
            if stat(prefix, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR { return prefix }
        }
        return path
    }

    /// `path` relative to `folder` (each taken from the working directory when relative), so a
    /// file can name another that moves with it (a LoRA fine-tune naming its base).
    public static func relativePath(_ path: String, from folder: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        func components(_ p: String) -> [String] {
            ((p.hasPrefix("/") ? p : cwd + "/" + p) as NSString).standardizingPath.split(separator: "/").map(String.init)
        }
        let target = components(path), from = components(folder)
        var common = 0
        while common < min(target.count, from.count) && target[common] == from[common] { common += 1 }
        return (Array(repeating: "..", count: from.count - common) + target[common...]).joined(separator: "/")
    }

    /// A path written by `relativePath(_:from:)`, back from `folder`.
    public static func resolve(_ relative: String, from folder: String) -> String {
        relative.hasPrefix("/") ? relative : ((folder as NSString).appendingPathComponent(relative) as NSString).standardizingPath
    }
}
