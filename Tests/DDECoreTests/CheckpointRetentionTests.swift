import XCTest
import DDECore

/// `keep_checkpoints`: every stage keeps its newest N checkpoints, deletes the older ones only
/// after the new one is written, and clears temporary files that killed runs left behind.
final class CheckpointRetentionTests: XCTestCase {
    /// A temporary checkpoint of a run killed mid-write (another pid), and one of this process.
    func plantTemporaries(_ checkpoints: String) throws -> (stale: String, own: String) {
        try FileIO.createFolder(checkpoints)
        let stale = ".step-0000001.safetensors.tmp-999999999", own = ".step-0000099.safetensors.tmp-\(getpid())"
        for name in [stale, own] { try FileIO.writeAtomically([1, 2, 3], to: checkpoints + "/" + name) }
        return (stale, own)
    }

    func check(_ checkpoints: String, kept: [Int], _ planted: (stale: String, own: String), file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(checkpointNames(checkpoints), kept.map { String(format: "step-%07d.safetensors", $0) }, file: file, line: line)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []
        XCTAssertFalse(names.contains(planted.stale), "a killed run's temporary file is removed", file: file, line: line)
        XCTAssertTrue(names.contains(planted.own), "a temporary of this process (being written) is left alone", file: file, line: line)
    }

    func testPretrainKeepsTheLastN() throws {
        let folder = scratchFolder()
        let planted = try plantTemporaries(folder + "/checkpoints")
        try Toy.pretrainer(folder, ["pretrain.steps=5", "keep_checkpoints=2"]).run()
        check(folder + "/checkpoints", kept: [4, 5], planted)
    }

    func testFineTuneKeepsTheLastN() throws {
        let base = scratchFolder()
        let model = try Toy.pretrainer(base, ["pretrain.steps=2"]).run()
        let folder = scratchFolder()
        let planted = try plantTemporaries(folder + "/checkpoints")
        try Toy.fineTuner(folder, ["steps=5", "keep_checkpoints=3"]).run(base: model, pairs: Toy.pairs())
        check(folder + "/checkpoints", kept: [3, 4, 5], planted)
    }

    func testAnnotatorsKeepTheLastN() throws {
        let folder = scratchFolder()
        let planted = try plantTemporaries(folder + "/checkpoints")
        try Toy.annotatorTrainer(folder, ["annotators.checkpoint_every=1", "annotators.steps=5", "keep_checkpoints=1"]).run()
        check(folder + "/checkpoints", kept: [5], planted)
    }
}
