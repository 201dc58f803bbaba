import XCTest
import DDECore

/// The run folder cannot be written, or the disk fills: one line naming the path and the
/// system's reason at the first write that fails, and nothing half-written left as if whole.
///
/// The tests run as root, whom permission bits do not stop, so "cannot be written" is a run
/// folder below a regular file (ENOTDIR, which binds root too). "The disk fills" is
/// `SimulatedDisk`: an unprivileged test cannot mount a small file system, so `FileIO`'s
/// writes take their bytes from a budget and fail with ENOSPC when it is spent, through the
/// same error path as a real full disk.
final class FileFailureTests: XCTestCase {
    override func tearDown() {
        SimulatedDisk.freeBytes = nil
        super.tearDown()
    }

    /// Reading a device or a folder where a file is expected (a pairs image path of /dev/zero,
    /// a config path that is a folder) is one line, not an endless read; a pipe still reads.
    func testReadingADeviceOrAFolderIsRefused() throws {
        for (path, reason) in [("/dev/zero", "it is a device, not a file"), ("/tmp", "it is a folder")] {
            XCTAssertThrowsError(try FileIO.read(path)) { error in
                XCTAssertEqual("\(error)", "\(path): cannot read the file (\(reason))")
            }
        }
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data("seed = 3\n".utf8))
        try pipe.fileHandleForWriting.close()
        XCTAssertEqual(try FileIO.read("/dev/fd/\(pipe.fileHandleForReading.fileDescriptor)"), Array("seed = 3\n".utf8))
    }

    /// `out` below a regular file: every stage, the main job and the run lock fail at once with
    /// one line that names the folder, the reason and the file in the way; nothing is written.
    func testRunFolderBelowAFileIsOneClearLine() throws {
        let root = scratchFolder()
        try FileIO.createFolder(root)
        let blocker = root + "/not-a-folder"
        try FileIO.writeAtomically(Array("x".utf8), to: blocker)
        let out = blocker + "/run"
        let base = try Toy.pretrainer(scratchFolder(), ["pretrain.steps=1"]).run()
        let attempts: [(String, () throws -> Any)] = [
            ("pretrain", { try Toy.pretrainer(out + "/pretrain", ["pretrain.steps=1"]).run() }),
            ("annotators", { try Toy.annotatorTrainer(out + "/annotators").run() }),
            ("train", { try Toy.fineTuner(out + "/train", ["steps=1"]).run(base: base, pairs: Toy.pairs()) }),
            ("compare", { try Comparison(settings: try RunSettings(try Toy.config(out, Toy.model)), build: BuildInfo(commit: "test"),
                                         observer: SilentObserver()).run() }),
            ("lock", { try RunLock(folder: out) }),
        ]
        for (stage, attempt) in attempts {
            let text = errorText(attempt)
            XCTAssertTrue(text.hasPrefix(out), "\(stage): \(text)")
            XCTAssertTrue(text.hasSuffix(": cannot create the folder (Not a directory: \(blocker) is a file)"), "\(stage): \(text)")
            XCTAssertFalse(text.contains("\n"), "\(stage): one line")
        }
        XCTAssertEqual(try FileIO.read(blocker), Array("x".utf8), "the file in the way is untouched")
    }

    /// Every file under `folder` is whole: no temporary left, every safetensors file reads,
    /// every log line is complete (the CSV's with all the header's fields).
    func assertNothingHalfWritten(_ folder: String, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        for path in allFiles(folder) {
            let full = folder + "/" + path
            XCTAssertFalse(path.contains(".tmp-"), "\(context): temporary \(path) left", file: file, line: line)
            if path.hasSuffix(".safetensors") {
                XCTAssertNoThrow(try SafeTensorsReader(contentsOf: full), "\(context): \(path)", file: file, line: line)
            }
            guard path.hasSuffix(".csv") || path.hasSuffix(".jsonl"), let text = try? String(contentsOfFile: full, encoding: .utf8),
                  !text.isEmpty else { continue }
            XCTAssertTrue(text.hasSuffix("\n"), "\(context): \(path) ends mid-line", file: file, line: line)
            let lines = text.split(separator: "\n")
            if path.hasSuffix(".csv") {
                let fields = lines[0].split(separator: ",", omittingEmptySubsequences: false).count
                XCTAssertTrue(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == fields },
                              "\(context): \(path) has a short row", file: file, line: line)
            } else {
                XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") }, "\(context): \(path) has half a line",
                              file: file, line: line)
            }
        }
    }

    /// The disk fills at 16 points of everything a pretraining run writes (the resolved config,
    /// log lines, validation rows, checkpoints, the model): the run stops with
    /// one line naming the file and "No space left on device", leaves only whole files, and
    /// `resume=auto` with space again finishes with the uninterrupted run's weights and logs.
    func testDiskFullStopsCleanlyAndResumesExactly() throws {
        let extra = ["pretrain.steps=6", "pretrain.checkpoint_every=2"]
        let whole = scratchFolder()
        SimulatedDisk.freeBytes = 1 << 40
        try Toy.pretrainer(whole, extra).run()
        let used = (1 << 40) - SimulatedDisk.freeBytes!
        SimulatedDisk.freeBytes = nil
        XCTAssertGreaterThan(used, 100_000, "checkpoints and the model went through FileIO")
        let expected = try tensorBytes(whole + "/model.safetensors")
        let firstRow = try String(contentsOfFile: whole + "/metrics.jsonl", encoding: .utf8).prefix { $0 != "\n" }.utf8.count
        for k in -2..<14 {
            let folder = scratchFolder()
            // Two budgets end inside the first log lines (the JSONL row, then the CSV header and
            // row, written after the resolved config); the others are spread over the run, off
            // the round numbers, so most end inside a checkpoint or the model.
            let config = try Toy.config(folder, Toy.model + extra).rendered().utf8.count
            let budget = k == -2 ? config + 30 : k == -1 ? config + firstRow + 20 : k == 0 ? 0 : used * k / 14 + 37 * k
            SimulatedDisk.freeBytes = budget
            let text = errorText { try Toy.pretrainer(folder, extra).run() }
            SimulatedDisk.freeBytes = nil
            XCTAssertTrue(text.hasPrefix(folder + "/"), "budget \(budget): \(text)")
            XCTAssertTrue(text.hasSuffix("(No space left on device)"), "budget \(budget): \(text)")
            XCTAssertFalse(text.contains("\n"), "budget \(budget): one line")
            assertNothingHalfWritten(folder, "budget \(budget)")
            try Toy.pretrainer(folder, extra + ["resume=auto"]).run()
            XCTAssertEqual(try tensorBytes(folder + "/model.safetensors"), expected, "budget \(budget): resumed to the same weights")
            for log in ["metrics.csv", "validation.csv"] {
                XCTAssertEqual(try csvWithoutSeconds(folder + "/" + log), try csvWithoutSeconds(whole + "/" + log), "budget \(budget): \(log)")
            }
        }
    }

    /// An append the disk cannot hold leaves the log as it was (no partial line).
    func testFailedAppendLeavesTheFileAsItWas() throws {
        let folder = scratchFolder()
        try FileIO.createFolder(folder)
        let path = folder + "/log.jsonl"
        try FileIO.append(Array("{\"step\":1}\n".utf8), to: path)
        SimulatedDisk.freeBytes = 5
        let text = errorText { try FileIO.append(Array("{\"step\":2}\n".utf8), to: path) }
        SimulatedDisk.freeBytes = nil
        XCTAssertEqual(text, "\(path): cannot append to the file (No space left on device)")
        XCTAssertEqual(try FileIO.read(path), Array("{\"step\":1}\n".utf8))
    }
}
