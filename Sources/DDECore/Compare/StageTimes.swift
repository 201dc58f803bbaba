import Foundation

/// The main job's wall-clock seconds per stage (`timings.csv`, `stage,seconds`), rewritten
/// after every stage so a stopped run keeps what it measured. A reused stage takes the seconds
/// its reuse check and loading took. Where the main job's time goes, stage by stage: what the
/// plan estimates and the time budget is held to.
final class StageTimes {
    let path: String
    private(set) var rows: [(stage: String, seconds: Double)] = []

    init(path: String) { self.path = path }

    /// Runs `body`, then records its seconds under `stage` and rewrites the file.
    @discardableResult
    func measure<R>(_ stage: String, _ body: () throws -> R) throws -> R {
        let t0 = Stopwatch.now()
        let result = try body()
        rows.append((stage, Stopwatch.now() - t0))
        let text = "stage,seconds\n" + rows.map { "\($0.stage),\(String(format: "%.3f", $0.seconds))\n" }.joined()
        try FileIO.writeAtomically(Array(text.utf8), to: path)
        return result
    }
}
