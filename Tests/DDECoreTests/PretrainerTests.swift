import XCTest
import DDECore

final class PretrainerTests: XCTestCase {
    func tinyConfig(_ folder: String, _ extra: [String] = []) throws -> Config {
        try ConfigLoader.load(file: nil, overrides: [
            "out=\(folder)", "block_out_channels=8,16", "norm_num_groups=4", "sample_size=8", "encoder.dim=8",
            "pretrain.batch=8", "pretrain.lr=3e-3", "pretrain.warmup_steps=2", "pretrain.val_images=8",
            "pretrain.sample_every=0", "pretrain.checkpoint_every=3", "pretrain.val_every=100", "threads=2",
            "sample.steps=2", "pretrain.ema=0.9",
        ] + extra)
    }

    func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-pretrain-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A run stopped after step 3 and resumed with resume=auto ends bit-identical to an
    /// uninterrupted run: weights, EMA, AdamW moments (through the weights), random streams, and
    /// the metrics files (the wall-clock column aside).
    func testResumeEqualsAnUninterruptedRun() throws {
        let a = temporaryFolder(), b = temporaryFolder()
        try Pretrainer(settings: try RunSettings(try tinyConfig(a, ["pretrain.steps=6"])), folder: a, build: BuildInfo(commit: "test"),
                       observer: SilentObserver()).run()
        // b: first 3 steps, then a fresh process-like start that resumes to 6.
        try Pretrainer(settings: try RunSettings(try tinyConfig(b, ["pretrain.steps=3"])), folder: b, build: BuildInfo(commit: "test"),
                       observer: SilentObserver()).run()
        try Pretrainer(settings: try RunSettings(try tinyConfig(b, ["pretrain.steps=6", "resume=auto"])), folder: b,
                       build: BuildInfo(commit: "test"), observer: SilentObserver()).run()
        let wa = try SafeTensorsReader(contentsOf: a + "/model.safetensors")
        let wb = try SafeTensorsReader(contentsOf: b + "/model.safetensors")
        XCTAssertEqual(wa.names, wb.names)
        for name in wa.names { XCTAssertEqual(try wa.floats(name), try wb.floats(name), name) }
        let ca = try SafeTensorsReader(contentsOf: a + "/checkpoints/step-0000006.safetensors")
        let cb = try SafeTensorsReader(contentsOf: b + "/checkpoints/step-0000006.safetensors")
        for name in ["adam.m", "adam.v", "ema"] { XCTAssertEqual(try ca.floats(name), try cb.floats(name), name) }
        XCTAssertEqual(ca.metadata["rng.data"], cb.metadata["rng.data"])
        XCTAssertEqual(ca.metadata["rng.noise"], cb.metadata["rng.noise"])
        func metrics(_ folder: String) throws -> [String] {
            try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n").map {
                $0.split(separator: ",").dropLast().joined(separator: ",")  // drop the wall-clock column
            }
        }
        XCTAssertEqual(try metrics(a), try metrics(b))
        XCTAssertEqual(try metrics(a).count, 7, "header and six steps")
    }

    /// A run killed after validating a step its last checkpoint does not cover resumes without
    /// listing that step twice: validation.csv equals an uninterrupted run's.
    func testResumeAfterAKillKeepsValidationRowsOnce() throws {
        let a = temporaryFolder(), b = temporaryFolder()
        let extra = ["pretrain.steps=6", "pretrain.val_every=1", "pretrain.checkpoint_every=4"]
        try Pretrainer(settings: try RunSettings(try tinyConfig(a, extra)), folder: a, build: BuildInfo(commit: "test"), observer: SilentObserver()).run()
        try Pretrainer(settings: try RunSettings(try tinyConfig(b, extra)), folder: b, build: BuildInfo(commit: "test"), observer: SilentObserver()).run()
        // The kill: steps 5 and 6 were validated and logged, their checkpoint and the model never written.
        for f in [b + "/checkpoints/step-0000006.safetensors", b + "/model.safetensors"] { try FileManager.default.removeItem(atPath: f) }
        try Pretrainer(settings: try RunSettings(try tinyConfig(b, extra + ["resume=auto"])), folder: b, build: BuildInfo(commit: "test"),
                       observer: SilentObserver()).run()
        let va = try String(contentsOfFile: a + "/validation.csv", encoding: .utf8)
        XCTAssertEqual(va, try String(contentsOfFile: b + "/validation.csv", encoding: .utf8))
        XCTAssertEqual(va.split(separator: "\n").count, 7, "header and steps 1...6, each once")
    }

    /// Training works: the epsilon loss of a tiny model falls well below its starting value.
    func testLossFalls() throws {
        let folder = temporaryFolder()
        try Pretrainer(settings: try RunSettings(try tinyConfig(folder, ["pretrain.steps=40", "pretrain.ema=0"])), folder: folder,
                       build: BuildInfo(commit: "test"), observer: SilentObserver()).run()
        let rows = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let losses = rows.map { Double($0.split(separator: ",")[1])! }
        let first = losses.prefix(3).reduce(0, +) / 3, last = losses.suffix(5).reduce(0, +) / 5
        XCTAssertLessThan(last, 0.6 * first, "loss \(first) -> \(last)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/samples/step-0000040.png"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/validation.csv"))
        let (model, _) = try Checkpoint.loadModel(folder + "/model.safetensors")
        XCTAssertEqual(model.architecture.unet.blockOutChannels, [8, 16])
    }
}
