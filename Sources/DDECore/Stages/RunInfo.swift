import Foundation

/// `run-info.txt` at the top of a main job's folder: which build ran it (version, commit), with
/// which command line, and when it started and finished. What `scripts/results.py` names above
/// every table it takes from the folder.
public struct RunInfo: Sendable {
    public let build: BuildInfo
    public let arguments: [String]
    public let started: Date
    public let finished: Date

    public init(build: BuildInfo, arguments: [String], started: Date, finished: Date) {
        self.build = build
        self.arguments = arguments
        self.started = started
        self.finished = finished
    }

    /// `key: value` lines.
    public var text: String {
        let iso = ISO8601DateFormatter()
        return """
            version: \(build.version)
            commit: \(build.commit)
            command: dde-train \(arguments.joined(separator: " "))
            started: \(iso.string(from: started))
            finished: \(iso.string(from: finished))
            seconds: \(String(format: "%.0f", finished.timeIntervalSince(started)))

            """
    }

    public func write(to path: String) throws {
        try FileIO.writeAtomically(Array(text.utf8), to: path)
    }
}
