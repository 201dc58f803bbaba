import XCTest
import DDECore

/// Same seed and thread count, same bytes: configs/smoke.conf's pretraining and a DDE fine-tune
/// on it, run twice in one process into the same folder path (so even the resolved config in
/// the files' metadata is equal), give byte-identical files: weights, checkpoints (AdamW
/// moments, EMA, random streams, the DDE record), validation and diagnostics logs; the metrics
/// logs differ only in their wall-clock `seconds` column (and so the finished-files lists that
/// hold their digests), the TensorBoard events only in their wall times and `metrics/seconds`.
final class DeterminismTests: XCTestCase {
    private static let smoke = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs/smoke.conf").path

    /// One run into `out`, moved to `keep` afterwards.
    func run(_ out: String, movedTo keep: String) throws {
        let config = try ConfigLoader.load(file: Self.smoke, overrides: ["out=\(out)", "loss=dde", "steps=6", "train.checkpoint_every=2"])
        let build = BuildInfo(commit: "test")
        let base = try Pretrainer(settings: try RunSettings(config), folder: out + "/pretrain", build: build, observer: SilentObserver()).run()
        let pairs = Toy.pairs(count: 16)
        let heldout = PreferencePairs(pairs: Array(pairs.pairs.suffix(4)), ties: 0, skipped: [], annotator: "test")
        try FineTuner(settings: try RunSettings(config), folder: out + "/train", build: build, observer: SilentObserver())
            .run(base: base, pairs: pairs, heldout: heldout)
        try FileManager.default.moveItem(atPath: out, toPath: keep)
    }

    func testSmokePretrainAndFineTuneAreBitIdentical() throws {
        let out = scratchFolder(), first = scratchFolder(), second = scratchFolder()
        try run(out, movedTo: first)
        try run(out, movedTo: second)
        let files = allFiles(first)
        XCTAssertEqual(files, allFiles(second))
        XCTAssertTrue(files.contains("pretrain/model.safetensors") && files.contains("train/model.safetensors")
                      && files.contains("train/record.csv") && files.contains("pretrain/samples/step-0000060.png"), "\(files)")
        for path in files {
            if path.hasSuffix(StageFolder.manifestFile) {
                continue  // the digests of the metrics logs, wall-clock seconds included
            } else if path.hasSuffix("metrics.csv") {
                XCTAssertEqual(try csvWithoutSeconds(first + "/" + path), try csvWithoutSeconds(second + "/" + path), path)
            } else if path.hasSuffix(TensorBoardLog.fileName) {
                XCTAssertEqual(try eventsWithoutClocks(first + "/" + path), try eventsWithoutClocks(second + "/" + path), path)
            } else if path.hasSuffix("metrics.jsonl") {
                func lines(_ root: String) throws -> [String] {
                    try String(contentsOfFile: root + "/" + path, encoding: .utf8).split(separator: "\n")
                        .map { $0.replacingOccurrences(of: #","seconds":[^,}]*"#, with: "", options: .regularExpression) }
                }
                XCTAssertEqual(try lines(first), try lines(second), path)
            } else {
                XCTAssertEqual(try FileIO.read(first + "/" + path), try FileIO.read(second + "/" + path), path)
            }
        }
    }

    /// A TensorBoard event file's events without their wall times (field 1, the first 9 bytes of
    /// each: dde-train writes it first) and with the `metrics/seconds` scalar's value zeroed.
    func eventsWithoutClocks(_ path: String) throws -> [[UInt8]] {
        let tag = Array("metrics/seconds".utf8) + [0x15]
        return try TensorBoardEvent.records(FileIO.read(path)).map { record in
            XCTAssertEqual(record.data.first, 0x09, "the wall time first")
            var event = Array(record.data.dropFirst(9))
            if let at = (0...(max(0, event.count - tag.count))).first(where: { Array(event[$0..<min(event.count, $0 + tag.count)]) == tag }) {
                for i in (at + tag.count)..<min(event.count, at + tag.count + 4) { event[i] = 0 }
            }
            return event
        }
    }
}
