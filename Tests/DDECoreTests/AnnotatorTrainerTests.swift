import XCTest
import DDECore

final class AnnotatorTrainerTests: XCTestCase {
    func config(_ folder: String, _ extra: [String]) throws -> Config {
        try ConfigLoader.load(file: nil, overrides: ["out=\(folder)", "annotators.steps=15", "annotators.batch=16",
                                                     "annotators.eval_images=64", "threads=1"] + extra)
    }

    func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-annotators-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The stage writes a loadable classifier with its accuracies, logs every step, is reused
    /// when nothing it depends on changed, and fails when the classifier misses the accuracy bar.
    func testStageWritesTheClassifierAndEnforcesTheAccuracyBar() throws {
        let folder = temporaryFolder()
        let lenient = try config(folder, ["annotators.min_accuracy=0"])
        let trainer = AnnotatorTrainer(settings: try RunSettings(lenient), folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
        XCTAssertNil(try trainer.cachedClassifier())
        let path = try trainer.run()
        XCTAssertEqual(path, AnnotatorTrainer.classifierPath(folder))
        let (classifier, meta) = try AlignClassifier.load(from: path)
        XCTAssertEqual(classifier.channels, AlignClassifier.defaultChannels)
        for name in AlignClassifier.attributeNames {
            let a = try XCTUnwrap(meta["accuracy.\(name)"].flatMap(Double.init), name)
            XCTAssert((0...1).contains(a))
        }
        XCTAssertEqual(meta["steps"], "15")
        XCTAssertEqual(meta["seed"], "0")
        let rows = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 16, "header and 15 steps")
        XCTAssertTrue(rows[0].hasPrefix("step,loss,loss_shape,loss_colour,loss_background,loss_size"))
        XCTAssertEqual(try AnnotatorSet.load(folder: folder).all.map(\.name), AnnotatorSet.builtInNames)

        XCTAssertEqual(try trainer.cachedClassifier(), path, "same settings: reused")
        let other = AnnotatorTrainer(settings: try RunSettings(try config(folder, ["annotators.min_accuracy=0", "annotators.lr=1e-3"])),
                                     folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
        let refused = errorText { try other.run() }
        XCTAssertTrue(refused.contains("holds a stage made with other settings (annotators.lr: 0.006 -> 0.001)"), refused)

        // 15 steps cannot read shapes: a strict bar rejects the cached file and fails the run.
        let strict = AnnotatorTrainer(settings: try RunSettings(try config(folder, ["annotators.min_accuracy=0.95"])), folder: folder,
                                      build: BuildInfo(commit: "test"), observer: SilentObserver())
        XCTAssertNil(try strict.cachedClassifier(), "min_accuracy changes no weights: the same stage, below the bar")
        XCTAssertThrowsError(try strict.run()) { error in
            XCTAssertTrue("\(error)".contains("annotators.min_accuracy"), "\(error)")
        }
    }
}

/// Issue 6 for the annotators stage: checkpoints, exact resume, the stop request, the settings
/// a resume must match.
final class AnnotatorResumeTests: XCTestCase {
    /// The classifier file's tensors and metadata, the wall-clock and the config (which names
    /// the run folder) aside.
    func classifier(_ folder: String) throws -> ([String: [UInt8]], [String: String]) {
        let path = AnnotatorTrainer.classifierPath(folder)
        let meta = try SafeTensorsReader(contentsOf: path).metadata.filter { $0.key != "train_seconds" && $0.key != "config" }
        return (try tensorBytes(path), meta)
    }

    func assertSameRun(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (ta, ma) = try classifier(a), (tb, mb) = try classifier(b)
        XCTAssertEqual(ta, tb, "weights", file: file, line: line)
        XCTAssertEqual(ma, mb, "metadata (accuracies, final_loss, ...)", file: file, line: line)
        let last = "/checkpoints/step-0000012.safetensors"
        XCTAssertEqual(try tensorBytes(a + last), try tensorBytes(b + last), "weights, AdamW moments, recent losses", file: file, line: line)
        XCTAssertEqual(try SafeTensorsReader(contentsOf: a + last).metadata["rng.data"],
                       try SafeTensorsReader(contentsOf: b + last).metadata["rng.data"], file: file, line: line)
        XCTAssertEqual(try csvWithoutSeconds(a + "/metrics.csv"), try csvWithoutSeconds(b + "/metrics.csv"), file: file, line: line)
        XCTAssertEqual(try csvWithoutSeconds(a + "/metrics.csv").count, 14, "header, 12 steps, final newline", file: file, line: line)
    }

    /// A run killed after step 10 (its last checkpoint at step 8, steps 9 and 10 logged, half of
    /// step 11's log line written) resumes with resume=auto to the uninterrupted run's weights,
    /// AdamW state, data stream, loss window and logs.
    func testResumeAfterAKillEqualsAnUninterruptedRun() throws {
        let a = scratchFolder(), b = scratchFolder()
        try Toy.annotatorTrainer(a).run()
        try Toy.annotatorTrainer(b).run()
        XCTAssertEqual(checkpointNames(b + "/checkpoints"), ["step-0000004.safetensors", "step-0000008.safetensors", "step-0000012.safetensors"])
        // The kill: what steps 9...12 wrote after the step-8 checkpoint is gone but their log
        // rows, and the row of the step being logged is cut mid-line.
        for f in ["/checkpoints/step-0000012.safetensors", "/align.safetensors"] { try FileManager.default.removeItem(atPath: b + f) }
        try MetricsTestFiles.keepRows(upTo: 10, in: b)
        try FileIO.append(Array("{\"step\":1".utf8), to: b + "/metrics.jsonl")
        try FileIO.append(Array("1".utf8), to: b + "/metrics.csv")
        let notes = NoteRecorder()
        try Toy.annotatorTrainer(b, ["resume=auto"], observer: notes).run()
        XCTAssertTrue(notes.notes.contains { $0.contains("step-0000008.safetensors at step 8") }, "\(notes.notes)")
        try assertSameRun(a, b)
        XCTAssertEqual(try String(contentsOfFile: a + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").dropLast() },
                       try String(contentsOfFile: b + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").dropLast() })
    }

    /// A stop request ends the step, writes its checkpoint and throws `Interrupted`; the resumed
    /// run equals the uninterrupted one.
    func testInterruptedRunCheckpointsAndResumesExactly() throws {
        let a = scratchFolder(), b = scratchFolder()
        try Toy.annotatorTrainer(a).run()
        Interruption.request()
        defer { Interruption.reset() }
        XCTAssertThrowsError(try Toy.annotatorTrainer(b).run()) { error in
            guard let stop = error as? Interrupted else { return XCTFail("\(error)") }
            XCTAssertEqual(stop.step, 1)
            XCTAssertEqual(stop.checkpoint, b + "/checkpoints/step-0000001.safetensors")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: AnnotatorTrainer.classifierPath(b)))
        Interruption.reset()
        try Toy.annotatorTrainer(b, ["resume=auto"]).run()
        try assertSameRun(a, b)
    }

    /// A checkpoint continues only its own run: other settings are refused, naming the key.
    func testResumeWithOtherSettingsIsRefused() throws {
        let folder = scratchFolder(), other = scratchFolder()
        try Toy.annotatorTrainer(folder).run()
        let checkpoint = folder + "/checkpoints/step-0000012.safetensors"
        let text = errorText { try Toy.annotatorTrainer(other, ["resume=\(checkpoint)", "annotators.lr=1e-3"]).run() }
        XCTAssertTrue(text.contains("step-0000012.safetensors: a checkpoint of a run with other settings or inputs (annotators.lr: "), text)
    }
}

/// Log files as a kill leaves them.
enum MetricsTestFiles {
    /// Keeps the header and the rows of steps 1...`step` of `metrics.csv` and `metrics.jsonl`.
    static func keepRows(upTo step: Int, in folder: String) throws {
        for (name, keep) in [("metrics.csv", step + 1), ("metrics.jsonl", step)] {
            let lines = try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n").prefix(keep)
            try FileIO.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: folder + "/" + name)
        }
    }
}
