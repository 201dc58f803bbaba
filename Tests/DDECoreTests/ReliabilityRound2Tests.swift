import XCTest
import Foundation
import DDECore

/// Issue 14: the classes of abuse a new user's first hour found, one test each; every test here
/// failed on the code before the issue (a hang, a backtrace, a late or unclear error).
final class ReliabilityRound2Tests: XCTestCase {
    // MARK: No endless runs

    /// A checkpoint past the configured steps is refused naming the key and the way on (before:
    /// the loop ran from step 2 towards 1 and never stopped); one at exactly the steps finishes
    /// at once with the same model.
    func testResumePastTheStepsIsRefusedAndAtTheStepsFinishesAtOnce() throws {
        let a = scratchFolder(), b = scratchFolder(), c = scratchFolder()
        try Toy.pretrainer(a, ["pretrain.steps=2"]).run()
        let checkpoint = a + "/checkpoints/step-0000002.safetensors"
        let message = errorText { try Toy.pretrainer(b, ["pretrain.steps=1", "resume=\(checkpoint)"]).run() }
        XCTAssertTrue(message.contains("key 'pretrain.steps'") && message.contains("at step 2") && message.contains("pretrain.steps=2"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: b), "a refused resume makes no folder")
        try Toy.pretrainer(c, ["pretrain.steps=2", "resume=\(checkpoint)"]).run()
        XCTAssertEqual(try tensorBytes(c + "/model.safetensors"), try tensorBytes(a + "/model.safetensors"))
        // Into the finished run's own folder: refused before anything there changes (before: its
        // finished-files list and signature were removed, the stage reopened, then refused).
        let before = try allFiles(a).filter { $0 != ".lock" }.map { ($0, try FileIO.read(a + "/" + $0)) }
        let refused = errorText { try Toy.pretrainer(a, ["pretrain.steps=1", "resume=auto"]).run() }
        XCTAssertTrue(refused.contains("it continues only to more steps"), refused)
        let after = try allFiles(a).filter { $0 != ".lock" }.map { ($0, try FileIO.read(a + "/" + $0)) }
        XCTAssertEqual(before.map(\.0), after.map(\.0))
        XCTAssertTrue(zip(before, after).allSatisfy { $0.1 == $1.1 }, "the finished stage's files are unchanged")
    }

    // MARK: Every bad value caught when the config is loaded

    /// List keys, choices hidden in strings and input paths are checked at load time with the
    /// key and "command line" (or file:line) in the message: before, these passed `dde-train
    /// config` and failed after pretraining, or with exit 1 and files written.
    func testBadValuesAreConfigErrorsNamingTheKey() throws {
        let device = "/dev/zero", folder = FileManager.default.temporaryDirectory.path
        let cases: [(String, String)] = [
            ("compare.methods=uniform,ddee", "did you mean 'dde'"),
            ("compare.methods=", "entries"),
            ("compare.annotators=pick,bogus", "'bogus' is not an annotator"),
            ("compare.seeds=-1", "must be >= 0"),
            ("compare.seeds=0,0", "listed twice"),
            ("compare.beta=-5", "must be > 0"),
            ("compare.lr=0", "must be > 0"),
            ("data=bogus", "neither 'world' nor 'folder:PATH'"),
            ("data=folder:/nonexistent/images", "does not exist"),
            ("resume=garbage", "'garbage' does not exist"),
            ("checkpoint=\(device)", "is a device"),
            ("base=\(folder)", "is a folder"),
            ("pairs=/nonexistent.jsonl", "does not exist"),
            ("reuse=runs/nonexistent-run", "does not exist"),
            // Found by scripts/abuse.py: a legal-looking value that ran for hours.
            ("eval.bootstrap=1000000000000", "out of range 100...1000000"),
            // AdamW's decoupled decay at lr x weight_decay >= 1 zeroes or flips the weights.
            ("weight_decay=1e12", "lr x weight_decay"),
        ]
        for (override, expected) in cases {
            let key = String(override.prefix { $0 != "=" })
            let message = errorText { try RunSettings(ConfigLoader.load(file: nil, overrides: [override])) }
            XCTAssertTrue(message.hasPrefix("command line: override '\(override)': key '\(key)': ")
                          || message.hasPrefix("command line: keys '\(key)' ("), message)
            XCTAssertTrue(message.contains(expected), "\(override): \(message)")
        }
        // From a file, the file and line.
        let file = scratchFolder() + ".conf"
        try "seed = 1\ncompare.annotators = align, pik\n".write(toFile: file, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        let message = errorText { try ConfigLoader.load(file: file, overrides: []) }
        XCTAssertTrue(message.hasPrefix("\(file):2: key 'compare.annotators': 'pik' is not an annotator"), message)
        XCTAssertTrue(message.contains("did you mean 'pick'"), message)
    }

    /// Sizes the machine cannot hold are config errors naming the key, before any stage (before:
    /// a backtrace, exit 134, and a resolved config and empty folders left behind).
    func testSizesBeyondTheMachineAreConfigErrors() throws {
        for override in ["pretrain.batch=1000000000000", "batch=1000000000000", "pretrain.val_images=100000000000000000",
                         "annotators.batch=1000000000000", "annotators.eval_images=100000000000000000",
                         "eval.images_per_prompt=4611686018427387904", "block_out_channels=8,4611686018427387904"] {
            let key = String(override.prefix { $0 != "=" })
            let message = errorText { try RunSettings(ConfigLoader.load(file: nil, overrides: [override])) }
            XCTAssertTrue(message.contains("'\(key)'"), "\(override): \(message)")
            XCTAssertTrue(message.contains("GiB"), "\(override): \(message)")
        }
        // The shipped configs fit.
        for name in ["smoke", "sd15", "bench"] {
            XCTAssertNoThrow(try RunSettings(ConfigLoader.load(file: Self.packageRoot + "/configs/\(name).conf", overrides: [])), name)
        }
    }

    /// A 10 MB line or key is quoted as a short excerpt, and the did-you-mean search does not
    /// compare it with every key (before: the whole line came back, and the search took minutes).
    func testHugeLinesAreQuotedShort() throws {
        let huge = String(repeating: "x", count: 10_000_000)
        let file = scratchFolder() + ".conf"
        try "seed = 1\n\(huge)\n".write(toFile: file, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        for message in [errorText { try ConfigLoader.load(file: file, overrides: []) },
                        errorText { try ConfigLoader.load(file: nil, overrides: ["\(huge)=1"]) },
                        errorText { try ConfigLoader.load(file: nil, overrides: ["seed=\(huge)"]) }] {
            XCTAssertLessThan(message.count, 400, String(message.prefix(200)))
            XCTAssertTrue(message.contains("(10000000 characters)"), String(message.prefix(200)))
        }
    }

    // MARK: Weights checked when loaded

    /// A model file holding a NaN is refused by every load, naming the file and the tensor
    /// (before: black images and scores with exit 0; as base model, "the loss is nan").
    func testNonFiniteWeightsAreRefusedNamingFileAndTensor() throws {
        let folder = scratchFolder()
        try Toy.pretrainer(folder, ["pretrain.steps=1"]).run()
        let (model, _) = try Checkpoint.loadModel(folder + "/model.safetensors")
        let slot = model.store.slots[3]
        model.store.parameters(slot)[1] = .nan
        let poisoned = folder + "/poisoned.safetensors"
        try model.store.write(to: poisoned, metadata: try SafeTensorsReader(contentsOf: folder + "/model.safetensors").metadata)
        let message = errorText { try Checkpoint.loadModel(poisoned) }
        XCTAssertTrue(message.hasPrefix("\(poisoned): tensor '\(slot.name)' holds a NaN or an infinity (element 1)"), message)
    }

    /// Model files and checkpoints carry a checksum of their tensor bytes: one flipped bit is
    /// refused naming the file (before: loaded silently); a file written without one still
    /// loads, with a note.
    func testAFlippedBitIsRefusedAndOldFilesLoadWithANote() throws {
        let folder = scratchFolder()
        try Toy.pretrainer(folder, ["pretrain.steps=1"]).run()
        let path = folder + "/model.safetensors"
        let file = try SafeTensorsReader(contentsOf: path)
        XCTAssertTrue(file.checksumVerified)
        XCTAssertNil(Checkpoint.unverifiedNote(file))
        var bytes = try FileIO.read(path)
        let old = folder + "/old.safetensors"
        // The same tensors and metadata without the checksum: a file from before this change.
        var writer = SafeTensorsWriter(metadata: file.metadata.filter { $0.key != SafeTensors.checksumKey })
        for name in file.names { try writer.add(name, shape: try file.info(name).shape, try file.floats(name)) }
        try writer.write(to: old)
        let (_, oldFile) = try Checkpoint.loadModel(old)
        XCTAssertFalse(oldFile.checksumVerified)
        XCTAssertTrue(Checkpoint.unverifiedNote(oldFile)?.contains(old) == true)
        // One bit of the last tensor's last byte.
        bytes[bytes.count - 1] ^= 0x01
        try FileIO.writeAtomically(bytes, to: path)
        let message = errorText { try Checkpoint.loadModel(path) }
        XCTAssertTrue(message.hasPrefix("\(path): the tensor data does not match the checksum"), message)
    }

    /// A fine-tune's checkpoint loads as its model in sample, eval and export (before:
    /// "unexpected tensor 'record.entries' ... another architecture?").
    func testAFineTuneCheckpointLoadsAsAModel() throws {
        let base = scratchFolder(), tune = scratchFolder()
        try Toy.pretrainer(base, ["pretrain.steps=1"]).run()
        try Toy.fineTuner(tune, ["steps=1"]).run(base: base + "/model.safetensors", pairs: Toy.pairs())
        let checkpoint = tune + "/checkpoints/step-0000001.safetensors"
        XCTAssertNotNil(try SafeTensorsReader(contentsOf: checkpoint).tensor("record.entries"))
        let (fromCheckpoint, _) = try Checkpoint.loadModel(checkpoint)
        let (final, _) = try Checkpoint.loadModel(tune + "/model.safetensors")
        XCTAssertEqual(fromCheckpoint.store.params.array(final.store.count), final.store.params.array(final.store.count))
    }

    // MARK: Counted, not dropped

    /// `data.skip_bad` skips bad caption lines and says how many, listing them in the stage
    /// folder (before: dropped without a word).
    func testSkippedCaptionLinesAreCountedAndListed() throws {
        let images = scratchFolder()
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        let image = RGBImage(width: 8, height: 8, fill: (200, 40, 40))
        for i in 0..<3 { try PNGFile.write(image, to: images + "/\(i).png") }
        let lines = (0..<3).map { "{\"file\": \"\($0).png\", \"caption\": \"a red square\"}" } + ["not json", "{\"file\": \"9.png\"}"]
        try FileIO.writeAtomically(Array(lines.joined(separator: "\n").utf8), to: images + "/captions.jsonl")
        let folder = scratchFolder(), notes = NoteRecorder()
        try Toy.pretrainer(folder, ["pretrain.steps=1", "data=folder:\(images)", "data.skip_bad=true"], observer: notes).run()
        XCTAssertTrue(notes.notes.contains { $0.contains("skipped 2 bad caption lines") }, "\(notes.notes)")
        let listed = try String(contentsOfFile: folder + "/skipped.txt", encoding: .utf8)
        XCTAssertEqual(listed.split(separator: "\n").count, 2, listed)
        XCTAssertTrue(listed.contains("captions.jsonl:4: not a JSON object"), listed)
    }

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}
