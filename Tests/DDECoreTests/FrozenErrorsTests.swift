import XCTest
import DDECore
import DDENumerics

// `FrozenErrors` remembers a frozen model's errors by content: a remembered value equals the
// computed one, nothing is reused where an input differs, and fine-tunes sharing one memo end
// with the same weights and logs as fine-tunes computing everything themselves.
extension FineTunerTests {
    func testFrozenErrorsRememberByContentOnly() throws {
        let (_, modelPath, pairs) = try fixture()
        let model = try Checkpoint.loadModel(modelPath, workspace: Workspace(threads: 1)).model
        let digest = model.contentDigest
        let memo = FrozenErrors()
        let batch = PreferenceBatch(capacity: 4, sampleSize: 8)
        let chosen = Array(pairs.pairs.prefix(4)), schedule = NoiseSchedule(kind: .scaledLinear, timesteps: 1000)
        func fill(t: Int, stream: UInt64) {
            var rng = RandomStream(seed: 1, stream: stream)
            batch.fill(chosen, t: [Int](repeating: t, count: 4), preference: true, sharedNoise: true, schedule: schedule, rng: &rng)
        }
        fill(t: 300, stream: 1)
        let computed = batch.errors(of: model, forBackward: false).e
        XCTAssertEqual(memo.errors(of: model, digest: digest, batch: batch), computed)
        XCTAssertEqual(memo.errors(of: model, digest: digest, batch: batch), computed)
        XCTAssertEqual([memo.hits, memo.misses], [1, 1], "the second call is remembered")
        fill(t: 301, stream: 1)  // another t
        XCTAssertNotEqual(memo.errors(of: model, digest: digest, batch: batch), computed)
        fill(t: 300, stream: 2)  // other noise
        XCTAssertNotEqual(memo.errors(of: model, digest: digest, batch: batch), computed)
        fill(t: 300, stream: 1)
        var other = ContentDigest(); other.add("another model")
        XCTAssertEqual(memo.errors(of: model, digest: other, batch: batch), computed, "computed again, the same")
        XCTAssertEqual([memo.hits, memo.misses], [1, 4], "another t, noise or model is never taken from memory")
        let full = FrozenErrors(capacity: 0)
        _ = full.errors(of: model, digest: digest, batch: batch)
        _ = full.errors(of: model, digest: digest, batch: batch)
        XCTAssertEqual(full.hits, 0, "a full memo remembers nothing new")
    }

    /// The main job's case: Uniform and DDE on the same pairs and seed draw the same batches, so
    /// the second takes the reference's errors (and the diagnostics') from the first; its weights
    /// and logs equal a run that computes them itself.
    func testFineTunesSharingTheMemoEqualSeparateOnes() throws {
        let (base, model, pairs) = try fixture()
        let heldout = PreferencePairs(pairs: Array(pairs.pairs.suffix(5)), ties: 0, skipped: [], annotator: "test")
        let common = base.settings.filter { $0.origin == .commandLine }.map { "\($0.key.name)=\($0.value.text)" }
            + ["batch=4", "steps=4", "lr=1e-3", "beta=100", "dde.record_buckets=10", "train.probe_pairs=3", "train.log_every=1",
               "train.credit_every=2"]
        func run(_ loss: String, _ memo: FrozenErrors) throws -> String {
            let folder = temporaryFolder()
            try FineTuner(settings: try RunSettings(try ConfigLoader.load(file: nil, overrides: common + ["loss=\(loss)"])), workspace: Workspace(threads: 1),
                          folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver(), frozen: memo)
                .run(base: model, pairs: pairs, heldout: heldout)
            return folder
        }
        let shared = FrozenErrors()
        _ = try run("uniform", shared)
        let before = shared.hits
        let sharing = try run("dde", shared), alone = try run("dde", FrozenErrors())
        XCTAssertGreaterThanOrEqual(shared.hits - before, 4 + 5 + 10, "every step's reference, every held-out log's, every tenth's")
        let a = try SafeTensorsReader(contentsOf: sharing + "/model.safetensors"), b = try SafeTensorsReader(contentsOf: alone + "/model.safetensors")
        for name in a.names { XCTAssertEqual(try a.floats(name), try b.floats(name), name) }
        let columns = ["loss", "D", "e_ref_w", "e_ref_l", "C", "grad_norm"]
        let m1 = try XCTUnwrap(CSVTable.load(sharing + "/metrics.csv")), m2 = try XCTUnwrap(CSVTable.load(alone + "/metrics.csv"))
        for c in columns { XCTAssertEqual(m1.numbers(c), m2.numbers(c), "metrics.csv: \(c)") }
        for file in ["heldout.csv", "heldout-by-t.csv", "credit.csv", "record.csv"] {
            XCTAssertEqual(try String(contentsOfFile: sharing + "/" + file, encoding: .utf8),
                           try String(contentsOfFile: alone + "/" + file, encoding: .utf8), file)
        }
    }
}
