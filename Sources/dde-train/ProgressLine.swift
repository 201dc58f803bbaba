import DDECore
import Foundation

/// The progress line on stderr: on a terminal, one line redrawn in place with the step, rate
/// and ETA; otherwise (logs, CI) a plain line every 5% of a stage. Notes go on their own line.
/// Under MPI only rank 0 prints (every rank makes the same progress).
final class ProgressLine: StageObserver {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let silent = !Cluster.current.writesFiles
    private var began = 0.0
    private var firstStep = 0
    private var lastDraw = 0.0
    private var lineOpen = false

    func stageBegan(_ stage: String, total: Int, completed: Int) {
        began = Date().timeIntervalSince1970
        firstStep = completed
        note("\(stage): \(total) steps" + (completed > 0 ? ", resuming after step \(completed)" : ""))
    }

    func stepDone(_ stage: String, step: Int, total: Int, metrics: [(String, Double)]) {
        if silent { return }
        let now = Date().timeIntervalSince1970
        let done = step - firstStep
        let rate = done > 0 ? Double(done) / max(now - began, 1e-9) : 0
        let eta = rate > 0 ? Double(total - step) / rate : 0
        let shown = metrics.filter { $0.0 != "step" && $0.0 != "seconds" }
            .map { "\($0.0) \(Self.format($0.1))" }.joined(separator: "  ")
        let text = String(format: "%@ %d/%d (%.0f%%)  %@  %.2f it/s  ETA %@", stage, step, total,
                          100 * Double(step) / Double(total), shown, rate, Self.clock(eta))
        if isTerminal {
            if now - lastDraw < 0.1 && step != total { return }
            lastDraw = now
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
            lineOpen = true
            if step == total { endLine() }
        } else if step == total || step % max(1, total / 20) == 0 {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    func note(_ text: String) {
        if silent { return }
        endLine()
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    func stageEnded(_ stage: String) { endLine() }

    private func endLine() {
        if lineOpen { FileHandle.standardError.write(Data("\n".utf8)); lineOpen = false }
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return abs(v) >= 0.01 && abs(v) < 1000 ? String(format: "%.4f", v) : String(format: "%.2e", v)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// The build's version and git commit (from the checkout the binary was built in, three folders
/// above it), with `-dirty` when that checkout has uncommitted changes to tracked files; "unknown"
/// for a binary outside a checkout (a copy).
enum Build {
    static let info: BuildInfo = {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let root = exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        func git(_ arguments: [String]) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", root] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            process.waitUntilExit()
            return process.terminationStatus == 0 ? text : nil
        }
        guard let commit = git(["rev-parse", "--short=12", "HEAD"]), !commit.isEmpty else { return BuildInfo(commit: "unknown") }
        let dirty = !(git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
        return BuildInfo(commit: commit + (dirty ? "-dirty" : ""))
    }()
}
