import XCTest
import DDECore

/// A stage's cached artifact is reused only when it is whole and made with the same settings
/// (other settings: refused, naming the keys, never overwritten); a file cut short (disk damage, a copy or a write cut off) in a folder whose signature matches
/// is never loaded; the stage says so and runs again, giving the same bytes as before.
final class StageCacheTests: XCTestCase {
    func comparison(_ out: String, observer: StageObserver) throws -> Comparison {
        let config = try Toy.config(out, Toy.model + Toy.fineTune + ["pretrain.steps=2", "steps=2", "pairs.samples_per_prompt=2",
                                                                     "compare.methods=dde", "compare.annotators=aesthetic"])
        return Comparison(settings: try RunSettings(config), build: BuildInfo(commit: "test"), observer: observer)
    }

    func testDamagedFilesOfAFinishedStageAreNotReused() throws {
        let out = scratchFolder(), notes = NoteRecorder()
        let comparison = try comparison(out, observer: notes)
        let base = try Pretrainer(settings: try RunSettings(comparison.settings.config), folder: out + "/pretrain", build: BuildInfo(commit: "test"), observer: notes).run()
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
            try Comparison(settings: try RunSettings(try comparison.settings.config.overriding(["lr": "2e-3"])), build: BuildInfo(commit: "test"), observer: notes)
                .fineTune(run, base: base, size: 8)
        }
        XCTAssertTrue(refused.contains("holds a stage made with other settings (lr: 0.001 -> 0.002); choose another out="), refused)

        // Half a model file where a finished fine-tune's was.
        try cut(tuned, to: 0.5)
        let said = try fineTuneAgain()
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
    }

    /// The pretrain and annotators stages keep the list of their finished files too: a model
    /// file cut short, or one with a NaN put into it (same size, another content), is said and
    /// the stage runs again (the same bytes); other settings are refused, never overwritten.
    func testDamagedBaseModelAndClassifierAreRetrained() throws {
        let folder = scratchFolder(), notes = NoteRecorder()
        let model = try Toy.pretrainer(folder, ["pretrain.steps=2"]).run()
        let bytes = try FileIO.read(model)
        let refused = errorText { try Toy.pretrainer(folder, ["pretrain.steps=2", "pretrain.lr=1e-2"]).run() }
        XCTAssertTrue(refused.contains("holds a stage made with other settings (pretrain.lr: 0.001 -> 0.01)"), refused)
        XCTAssertEqual(try FileIO.read(model), bytes, "never overwritten")
        try cut(model, to: 0.7)
        try Toy.pretrainer(folder, ["pretrain.steps=2"], observer: notes).run()
        XCTAssertTrue(notes.notes.contains { $0.hasPrefix("pretrain: \(model) has ") && $0.contains("truncated") }, "\(notes.notes)")
        XCTAssertEqual(try FileIO.read(model), bytes)

        let name = try XCTUnwrap(SafeTensorsReader(contentsOf: model).names.first)
        try poke(model, tensor: name, index: 0, .nan)
        notes.notes = []
        try Toy.pretrainer(folder, ["pretrain.steps=2"], observer: notes).run()
        XCTAssertTrue(notes.notes.contains { $0 == "pretrain: \(model) changed since the stage finished (damaged); not reused, the stage runs again" },
                      "\(notes.notes)")
        XCTAssertEqual(try FileIO.read(model), bytes, "made again: no NaN")

        let annotators = scratchFolder()
        let path = try Toy.annotatorTrainer(annotators).run()
        let weights = try tensorBytes(path)
        try cut(path, to: 0.5)
        let trainer = try Toy.annotatorTrainer(annotators, observer: notes)
        XCTAssertNil(try trainer.cachedClassifier(), "a cut classifier is not reused")
        try trainer.run()
        XCTAssertTrue(notes.notes.contains { $0.hasPrefix("annotators: \(path) has ") && $0.contains("not reused") }, "\(notes.notes)")
        XCTAssertEqual(try tensorBytes(path), weights)

        let tensor = try XCTUnwrap(SafeTensorsReader(contentsOf: path).names.first)
        try poke(path, tensor: tensor, index: 0, .nan)
        notes.notes = []
        try Toy.annotatorTrainer(annotators, observer: notes).run()
        XCTAssertTrue(notes.notes.contains { $0.hasPrefix("annotators: \(path) changed since the stage finished (damaged)") }, "\(notes.notes)")
        XCTAssertEqual(try tensorBytes(path), weights)
    }

    /// `conv.winograd` and `threads` change the arithmetic, so a base model made with other
    /// values is not taken for this run's (issue 12: it was, being in no hand-kept key list).
    func testABaseModelMadeWithOtherArithmeticIsNotReused() throws {
        let out = scratchFolder(), folder = out + "/pretrain"
        try Toy.pretrainer(folder, ["pretrain.steps=2", "conv.winograd=f4x4"]).run()
        for (change, said) in [("conv.winograd=off", "conv.winograd: f4x4 -> off"), ("threads=1", "threads: 2 -> 1")] {
            let refused = errorText { try Toy.pretrainer(folder, ["pretrain.steps=2", "conv.winograd=f4x4", change]).run() }
            XCTAssertTrue(refused.contains("holds a stage made with other settings (\(said))"), refused)
        }
        func planned(_ winograd: String) throws -> Bool? {
            let config = try Toy.config(out, Toy.model + ["pretrain.steps=2", "conv.winograd=\(winograd)"])
            return try Comparison(settings: try RunSettings(config), build: BuildInfo(commit: "test"), observer: SilentObserver()).plan().first?.cached
        }
        XCTAssertEqual(try planned("f4x4"), true)
        XCTAssertEqual(try planned("off"), false, "the plan does not count it as cached either")
    }

    /// A fine-tune continues or reuses only a run made from the same base model and pairs:
    /// both are in its signature by content, and a resume with another one is refused naming it.
    func testAFineTuneFromAnotherBaseOrPairsIsRefused() throws {
        let bases = scratchFolder(), folder = scratchFolder()
        let baseA = try Toy.pretrainer(bases + "/a", ["pretrain.steps=2"]).run()
        let baseB = try Toy.pretrainer(bases + "/b", ["pretrain.steps=3"]).run()
        try Toy.fineTuner(folder, ["steps=2"]).run(base: baseA, pairs: Toy.pairs())
        let finished = errorText { try Toy.fineTuner(folder, ["steps=2"]).run(base: baseB, pairs: Toy.pairs()) }
        XCTAssertTrue(finished.contains("holds a stage made with other settings (base model differs (content "), finished)

        // A run stopped after its last checkpoint: resume=auto meets the checkpoint's signature.
        for name in ["model.safetensors", StageFolder.signatureFile, StageFolder.manifestFile] {
            try FileManager.default.removeItem(atPath: folder + "/" + name)
        }
        let base = errorText { try Toy.fineTuner(folder, ["steps=2", "resume=auto"]).run(base: baseB, pairs: Toy.pairs()) }
        XCTAssertTrue(base.contains("step-0000002.safetensors: a checkpoint of a run with other settings or inputs (base model differs (content "), base)
        let pairs = errorText { try Toy.fineTuner(folder, ["steps=2", "resume=auto"]).run(base: baseA, pairs: Toy.pairs(count: 10)) }
        XCTAssertTrue(pairs.contains("step-0000002.safetensors: a checkpoint of a run with other settings or inputs (pairs differs (content "), pairs)
        XCTAssertNoThrow(try Toy.fineTuner(folder, ["steps=2", "resume=auto"]).run(base: baseA, pairs: Toy.pairs()), "the same inputs: resumed")
    }

    /// With `data = folder:PATH` the folder's content is an input of the pretrain stage: an image
    /// changed after the base was made refuses the cached base instead of passing it off as made
    /// from the new data.
    func testABaseModelFromChangedFolderDataIsNotReused() throws {
        let data = scratchFolder(), folder = scratchFolder()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        func image(_ value: UInt8) -> RGBImage { RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: value, count: 8 * 8 * 3)) }
        for i in 0..<4 { try PNGFile.write(image(UInt8(40 * i)), to: data + "/img\(i).png") }
        let lines = (0..<4).map { "{\"file\": \"img\($0).png\", \"caption\": \"a grey square \($0)\"}" }
        try FileIO.writeAtomically(Array(lines.joined(separator: "\n").utf8), to: data + "/captions.jsonl")
        let extra = ["pretrain.steps=2", "data=folder:\(data)"]
        try Toy.pretrainer(folder, extra).run()
        let notes = NoteRecorder()
        try Toy.pretrainer(folder, extra, observer: notes).run()
        XCTAssertTrue(notes.notes.contains { $0.hasPrefix("pretrain: reusing") }, "the same data: reused")
        try PNGFile.write(image(200), to: data + "/img2.png")
        let refused = errorText { try Toy.pretrainer(folder, extra).run() }
        XCTAssertTrue(refused.contains("holds a stage made with other settings (the training images (data=folder:) differs (content "), refused)
    }
}
