import Foundation

/// A stage's folder and the record that the stage finished there: `artifacts.txt` (every file
/// the stage wrote, with its size and content digest) and then, last, `signature.txt` (the
/// `StageSignature` it was made with). Every stage (pretrain, annotators, pairs, fine-tunes)
/// keeps one, so a later run reuses a finished stage only when it was made with the same
/// settings and inputs and its files are whole, refuses one made with other settings (never
/// overwriting it), and runs a damaged one again.
public struct StageFolder: Sendable {
    public static let signatureFile = "signature.txt"
    public static let manifestFile = "artifacts.txt"

    public let path: String
    /// The file that carries the stage's result and its signature in its metadata
    /// (`model.safetensors`), or nil (`pairs.jsonl` has no metadata).
    public let primary: String?

    public init(_ path: String, primary: String? = nil) {
        self.path = path
        self.primary = primary
    }

    public enum State: Equatable {
        /// Nothing finished here: the stage runs (or resumes from its checkpoints).
        case empty
        /// Finished with this signature, every file whole: reuse it.
        case finished
        /// Finished with this signature, but a file is missing or changed (the reason): run again.
        case damaged(String)
        /// Made with another signature, the one recorded here. Never overwritten.
        case other(StageSignature)
    }

    /// Where the folder stands for a stage with `signature`.
    ///
    /// Without `signature.txt` (a stage stopped before it finished, or a folder from before
    /// signatures were kept here), a primary file that records another signature still counts
    /// as `other`: a result made with other settings is never overwritten.
    public func state(for signature: StageSignature) -> State {
        guard let text = try? String(contentsOfFile: path + "/" + Self.signatureFile, encoding: .utf8) else {
            guard let primary, FileManager.default.fileExists(atPath: path + "/" + primary) else { return .empty }
            guard let recorded = (try? SafeTensorsReader(contentsOf: path + "/" + primary))?.metadata["stage_signature"] else {
                return .empty  // unreadable (cut short by a kill): made again
            }
            let recordedSignature = StageSignature(stage: signature.stage, text: recorded)
            return recordedSignature == signature ? .empty : .other(recordedSignature)
        }
        let recorded = StageSignature(stage: signature.stage, text: text)
        if recorded != signature { return .other(recorded) }
        if let problem = damage() { return .damaged(problem) }
        return .finished
    }

    /// Marks the stage finished: the manifest of its files, then (last) its signature.
    public func finish(_ signature: StageSignature) throws {
        FileIO.removeStaleTemporaries(in: path)
        try FileIO.writeAtomically(Array(try manifest().utf8), to: path + "/" + Self.manifestFile)
        try FileIO.writeAtomically(Array(signature.text.utf8), to: path + "/" + Self.signatureFile)
    }

    /// Forgets that the stage finished (before it is made again over a damaged or extended copy):
    /// a kill while it runs then leaves a folder that is not taken for finished.
    public func unfinish() throws {
        for name in [Self.signatureFile, Self.manifestFile] where FileManager.default.fileExists(atPath: path + "/" + name) {
            try FileIO.remove(path + "/" + name)
        }
    }

    /// Every file below the folder but the checkpoints, hidden files (the lock, temporaries) and
    /// the signature and manifest themselves, as `size digest path` lines (sorted).
    func manifest() throws -> String {
        let skip: Set<String> = [Self.signatureFile, Self.manifestFile]
        let files = (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []).filter { name in
            !skip.contains(name) && !name.hasPrefix("checkpoints") && !name.split(separator: "/").contains { $0.hasPrefix(".") }
                && !Self.isFolder(path + "/" + name)
        }.sorted()
        return try files.map { name in
            let bytes = try FileIO.read(path + "/" + name)
            return "\(bytes.count) \(ContentDigest.of(bytes).hex) \(name)"
        }.joined(separator: "\n") + "\n"
    }

    /// Why the finished stage's files are not what it wrote, or nil: a file the manifest lists is
    /// missing, or differs in size or content.
    func damage() -> String? {
        guard let manifest = try? String(contentsOfFile: path + "/" + Self.manifestFile, encoding: .utf8) else {
            return "\(path)/\(Self.manifestFile) is missing"
        }
        for line in manifest.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, let size = Int(parts[0]) else { return "\(path)/\(Self.manifestFile) is damaged" }
            let file = path + "/" + parts[2]
            guard let bytes = try? FileIO.read(file) else { return "\(file) is missing" }
            if bytes.count != size { return "\(file) has \(bytes.count) bytes, \(size) when the stage finished (truncated or damaged)" }
            if ContentDigest.of(bytes).hex != parts[1] { return "\(file) changed since the stage finished (damaged)" }
        }
        return nil
    }

    private static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }
}
