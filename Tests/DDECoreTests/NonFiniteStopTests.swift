import XCTest
import DDECore

/// NaN or Inf in the weights after an update (the loss and the gradients of that step still
/// finite) stops every stage at that step, naming the step and the tensor, before the step is
/// checkpointed: no checkpoint on disk holds a non-finite value and the last good one is intact.
final class NonFiniteStopTests: XCTestCase {
    /// Every float tensor of every checkpoint in `folder` is finite.
    func assertCheckpointsFinite(_ folder: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for name in checkpointNames(folder) {
            let reader = try SafeTensorsReader(contentsOf: folder + "/" + name)
            for t in reader.tensors where t.dtype == .f32 {
                XCTAssertTrue(try reader.floats(t.name).allSatisfy(\.isFinite), "\(name): \(t.name)", file: file, line: line)
            }
        }
    }

    /// lr = 1e39 is Inf as a Float: the first update turns the weights to Inf/NaN while the
    /// first loss and gradients are fine. The run names step 1 and a tensor, writes nothing.
    /// (weight_decay=0: with decay, lr x weight_decay >= 1 is refused when the config loads.)
    func testHugeLearningRateStopsPretrainingAtStepOne() throws {
        let folder = scratchFolder()
        let text = errorText { try Toy.pretrainer(folder, ["pretrain.steps=3", "pretrain.lr=1e39", "pretrain.warmup_steps=0",
                                                           "weight_decay=0"]).run() }
        XCTAssertTrue(text.hasPrefix("pretrain step 1: non-finite weight after the update: "), text)
        XCTAssertNotNil(text.range(of: #" at [a-z_.0-9]+\[[0-9]+\] \(flat index [0-9]+\)"#, options: .regularExpression), text)
        XCTAssertTrue(text.contains("the last checkpoint is intact"), text)
        XCTAssertEqual(checkpointNames(folder + "/checkpoints"), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/model.safetensors"))
    }

    func testHugeLearningRateStopsTheAnnotatorsAtStepOne() throws {
        let folder = scratchFolder()
        let text = errorText { try Toy.annotatorTrainer(folder, ["annotators.lr=1e39", "annotators.warmup_steps=0",
                                                                 "annotators.checkpoint_every=1"]).run() }
        XCTAssertTrue(text.hasPrefix("annotators step 1: non-finite weight after the update: "), text)
        XCTAssertNotNil(text.range(of: #" at [a-z_.0-9]+\[[0-9]+\]"#, options: .regularExpression), text)
        XCTAssertEqual(checkpointNames(folder + "/checkpoints"), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: AnnotatorTrainer.classifierPath(folder)))
    }

    /// A fine-tune whose step-2 checkpoint carries a poisoned AdamW second moment (-1: finite,
    /// but its square root is NaN) resumes, computes a finite loss and gradients at step 3, and
    /// its update writes NaN into exactly that weight: the run stops at step 3 naming the
    /// tensor and index, and the step-2 checkpoint and the finished model stay as they were.
    func testPoisonedOptimizerStateStopsTheFineTuneAndKeepsTheLastCheckpoint() throws {
        let base = scratchFolder(), folder = scratchFolder()
        let model = try Toy.pretrainer(base, ["pretrain.steps=2"]).run()
        try Toy.fineTuner(folder, ["steps=2"]).run(base: model, pairs: Toy.pairs())
        let last = folder + "/checkpoints/step-0000002.safetensors"
        let store = try Checkpoint.loadModel(model).model.store
        let slot = try XCTUnwrap(store.slots.first { $0.offset > 0 && $0.count > 10 })
        try poke(last, tensor: "adam.v", index: slot.offset + 5, -1)
        let before = try FileIO.read(last), model2 = try FileIO.read(folder + "/model.safetensors")

        let text = errorText { try Toy.fineTuner(folder, ["steps=4", "resume=auto"]).run(base: model, pairs: Toy.pairs()) }
        XCTAssertTrue(text.hasPrefix("train dde step 3: non-finite weight after the update: "), text)
        XCTAssertTrue(text.contains("nan at \(slot.name)[5] (flat index \(slot.offset + 5));"), text)
        XCTAssertEqual(checkpointNames(folder + "/checkpoints"), ["step-0000001.safetensors", "step-0000002.safetensors"])
        XCTAssertEqual(try FileIO.read(last), before, "the last checkpoint is untouched")
        XCTAssertEqual(try FileIO.read(folder + "/model.safetensors"), model2, "the finished model is untouched")
        try poke(last, tensor: "adam.v", index: slot.offset + 5, 0)
        try assertCheckpointsFinite(folder + "/checkpoints")
    }

    /// A NaN weight in the checkpoint a run resumes from is refused when it is loaded, naming the
    /// file and the tensor (issue 14; before, the next loss was NaN), and no checkpoint is written.
    func testPoisonedWeightIsRefusedWhenResuming() throws {
        let folder = scratchFolder()
        try Toy.pretrainer(folder, ["pretrain.steps=2"]).run()
        let last = folder + "/checkpoints/step-0000002.safetensors"
        try poke(last, tensor: "conv_in.weight", index: 0, .nan)
        let text = errorText { try Toy.pretrainer(folder, ["pretrain.steps=4", "resume=auto"]).run() }
        XCTAssertTrue(text.hasPrefix("\(last): tensor 'conv_in.weight' holds a NaN or an infinity (element 0)"), text)
        XCTAssertEqual(checkpointNames(folder + "/checkpoints"), ["step-0000001.safetensors", "step-0000002.safetensors"])
    }
}
