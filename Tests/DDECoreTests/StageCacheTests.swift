import XCTest
import DDECore

/// A stage's cached artifact is reused only when it is whole and made with the same settings
/// (other settings: refused, naming the keys, never overwritten); a file cut short (disk damage, a copy or a write cut off) in a folder whose signature matches
/// is never loaded; the stage says so and runs again, giving the same bytes as before.
final class StageCacheTests: XCTestCase {
    func comparison(_ out: String, observer: StageObserver) throws -> Comparison {
        let config = try Toy.config(out, Toy.model + Toy.fineTune + ["pretrain.steps=2", "steps=2", "pairs.samples_per_prompt=2",
                                                                     "compare.methods=dde", "compare.annotators=aesthetic"])
        return Comparison(config: config, build: BuildInfo(commit: "test"), observer: observer)
    }

    func testDamagedFilesOfAFinishedStageAreNotReused() throws {
        let out = scratchFolder(), notes = NoteRecorder()
        let comparison = try comparison(out, observer: notes)
        let base = try Pretrainer(config: comparison.config, folder: out + "/pretrain", build: BuildInfo(commit: "test"), observer: notes).run()
        let model = try Checkpoint.loadModel(base).model
        var rng = RandomStream(seed: 1)
        let classifier = AlignClassifier()
        classifier.initialize(&rng)
        let annotators = AnnotatorSet(classifier: classifier)
        let pairsFile = try comparison.pairs(annotator: "aesthetic", base: model, annotators: annotators)
        let run = Comparison.Run(method: "dde", annotator: "aesthetic", seed: 0)
        let folder = try comparison.fineTune(run, base: base, size: 8)
        let tuned = folder + "/model.safetensors"
        let tunedBytes = try FileIO.read(tuned), pairsBytes = try FileIO.read(pairsFile)
        func fineTuneAgain() throws -> [String] {
            notes.notes = []
            XCTAssertEqual(try comparison.fineTune(run, base: base, size: 8), folder)
            return notes.notes
        }
        XCTAssertTrue(try fineTuneAgain().contains { $0.contains("reusing") }, "whole and the same settings: reused")
        let refused = errorText {
            try Comparison(config: try comparison.config.overriding(["lr": "2e-3"]), build: BuildInfo(commit: "test"), observer: notes)
                .fineTune(run, base: base, size: 8)
        }
        XCTAssertTrue(refused.contains("holds a stage made with other settings (lr: 0.001 -> 0.002); choose another out="), refused)

        // Half a model file where a finished fine-tune's was.
        try cut(tuned, to: 0.5)
        var said = try fineTuneAgain()
        XCTAssertTrue(said.contains { $0.contains("\(tuned) has \(tunedBytes.count / 2) bytes, \(tunedBytes.count) when the stage finished")
            && $0.hasSuffix("not reused, the stage runs again") }, "\(said)")
        XCTAssertEqual(try FileIO.read(tuned), tunedBytes, "run again: the same model")

        // pairs.jsonl cut at a line end would load without complaint, with fewer pairs.
        let firstLine = pairsBytes.prefix { $0 != UInt8(ascii: "\n") } + [UInt8(ascii: "\n")]
        try FileIO.writeAtomically(Array(firstLine), to: pairsFile)
        notes.notes = []
        try comparison.pairs(annotator: "aesthetic", base: model, annotators: annotators)
        XCTAssertTrue(notes.notes.contains { $0.contains("pairs.jsonl has \(firstLine.count) bytes") }, "\(notes.notes)")
        XCTAssertEqual(try FileIO.read(pairsFile), pairsBytes)

        // A folder finished before manifests existed: its model must still read whole.
        try FileManager.default.removeItem(atPath: folder + "/" + StageCache.manifestFile)
        try cut(tuned, to: 0.5)
        said = try fineTuneAgain()
        XCTAssertTrue(said.contains { $0.contains(tuned) && $0.contains("truncated") && $0.contains("not reused") }, "\(said)")
        XCTAssertEqual(try FileIO.read(tuned), tunedBytes)
    }

    /// The pretrain and annotators stages keep their signature inside the model file: a cut
    /// file cannot be read, so it is said and the stage runs again (same bytes).
    func testDamagedBaseModelAndClassifierAreRetrained() throws {
        let folder = scratchFolder(), notes = NoteRecorder()
        let model = try Toy.pretrainer(folder, ["pretrain.steps=2"]).run()
        let bytes = try FileIO.read(model)
        let refused = errorText { try Toy.pretrainer(folder, ["pretrain.steps=2", "pretrain.lr=1e-2"]).run() }
        XCTAssertTrue(refused.contains("holds a base model made with other settings (pretrain.lr: 0.001 -> 0.01)"), refused)
        XCTAssertEqual(try FileIO.read(model), bytes, "never overwritten")
        try cut(model, to: 0.7)
        try Toy.pretrainer(folder, ["pretrain.steps=2"], observer: notes).run()
        XCTAssertTrue(notes.notes.contains { $0.hasPrefix("pretrain: \(model): ") && $0.contains("truncated") }, "\(notes.notes)")
        XCTAssertEqual(try FileIO.read(model), bytes)

        let annotators = scratchFolder()
        let path = try Toy.annotatorTrainer(annotators).run()
        let weights = try tensorBytes(path)
        try cut(path, to: 0.5)
        let trainer = try Toy.annotatorTrainer(annotators, observer: notes)
        XCTAssertNil(trainer.cachedClassifier, "a cut classifier is not reused")
        try trainer.run()
        XCTAssertTrue(notes.notes.contains { $0.hasPrefix("annotators: \(path): ") && $0.contains("not reused") }, "\(notes.notes)")
        XCTAssertEqual(try tensorBytes(path), weights)
    }
}
