import XCTest
import DDECore

final class FineTunerTests: XCTestCase {
    func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-ft-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A tiny base model, and pairs of world renders: the clean render wins over a defective one.
    func fixture() throws -> (Config, String, PreferencePairs) {
        let folder = temporaryFolder()
        let base = try ConfigLoader.load(file: nil, overrides: [
            "out=\(folder)", "block_out_channels=8,16", "norm_num_groups=4", "sample_size=8", "encoder.dim=8",
            "pretrain.batch=8", "pretrain.steps=5", "pretrain.val_images=4", "pretrain.sample_every=0", "sample.steps=2",
        ])
        let model = try Pretrainer(settings: try RunSettings(base), folder: folder + "/pretrain", build: BuildInfo(commit: "test"),
                                   observer: SilentObserver()).run()
        let dataset = ShapesDataset(prompts: ShapesWorld.split().train, size: 8, defectRate: 0)
        var rng = RandomStream(seed: 4)
        var pairs = PreferencePairs(pairs: [], ties: 0, skipped: [], annotator: "test")
        for prompt in ShapesWorld.split().train.prefix(12) {
            var twin = rng
            let clean = dataset.renderClean(prompt, rng: &rng)
            let bad = ShapesRenderer(size: 8).render(prompt, defect: .noise, rng: &twin)
            pairs.pairs.append(.init(caption: prompt.text, winner: clean, loser: bad, winnerScore: 1, loserScore: 0))
        }
        return (base, model, pairs)
    }

    /// losses.md: at initialisation (policy == reference) every DPO-style loss is exactly ln 2,
    /// through the whole stage (two model copies, noising, per-image errors); SFT's first loss is
    /// the base model's epsilon error on the winners and is not ln 2.
    func testFirstStepLossIsLn2ForEveryPreferenceLoss() throws {
        let (base, model, pairs) = try fixture()
        for kind in PreferenceLoss.Kind.allCases {
            let folder = temporaryFolder()
            let config = try ConfigLoader.load(file: nil, overrides: base.settings.filter { $0.origin == .commandLine }
                .map { "\($0.key.name)=\($0.value.text)" } + ["loss=\(kind.rawValue)", "steps=3", "batch=4", "lr=1e-3", "beta=100"])
            try FineTuner(settings: try RunSettings(config), folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
                .run(base: model, pairs: pairs)
            let rows = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")
            let header = rows[0].split(separator: ","), first = rows[1].split(separator: ",")
            let loss = Double(first[header.firstIndex(of: "loss")!])!
            if kind.isPreference {
                // At policy == reference (D = 0): -log sigmoid(0) for the sigmoid losses of D; the
                // others at their own D = 0 values (KTO: lambda (1 - sigmoid(0)) with kl = 0;
                // MaPO, reference-free, and DSPO, here the winners' error, only finite).
                switch kind {
                case .hinge: XCTAssertEqual(loss, 1, accuracy: 1e-12, "hinge: max(0, 1 + beta 0)")
                case .ipo: XCTAssertEqual(loss, 1 / (200.0 * 200.0), accuracy: 1e-15, "ipo: (0 + 1/(2 beta))^2")
                case .kto: XCTAssertEqual(loss, 0.5, accuracy: 1e-12, "kto")
                case .mapo, .dspo: XCTAssertTrue(loss.isFinite && loss > 0, "\(kind): \(loss)")
                default: XCTAssertEqual(loss, log(2), accuracy: 1e-12, "\(kind)")
                }
                let z = Double(first[header.firstIndex(of: "z")!])!
                if kind != .mapo { XCTAssertEqual(z, 0, "\(kind): policy == reference gives z = 0") }
                let later = Double(rows[3].split(separator: ",")[header.firstIndex(of: "loss")!])!
                XCTAssertNotEqual(later, log(2), "\(kind): the policy moved")
            } else {
                XCTAssertNotEqual(loss, log(2))
                XCTAssertGreaterThan(loss, 0)
            }
            XCTAssertEqual(FileManager.default.fileExists(atPath: folder + "/record.csv"), kind.usesRecord, "\(kind)")
        }
    }

    /// A DDE fine-tune stopped after step 2 and resumed ends bit-identical to an uninterrupted
    /// one: weights, AdamW moments, the record (values and update counts) and every log.
    func testResumeEqualsAnUninterruptedRunIncludingTheRecord() throws {
        let (base, model, pairs) = try fixture()
        let heldout = PreferencePairs(pairs: Array(pairs.pairs.suffix(5)), ties: 0, skipped: [], annotator: "test")
        let common = base.settings.filter { $0.origin == .commandLine }.map { "\($0.key.name)=\($0.value.text)" }
            + ["loss=dde", "batch=4", "lr=1e-3", "beta=100", "train.checkpoint_every=2", "dde.record_buckets=10",
               "train.log_every=1", "train.credit_every=1", "train.probe_pairs=2"]
        let a = temporaryFolder(), b = temporaryFolder()
        func run(_ folder: String, _ extra: [String]) throws {
            try FineTuner(settings: try RunSettings(try ConfigLoader.load(file: nil, overrides: common + extra)), folder: folder,
                          build: BuildInfo(commit: "test"), observer: SilentObserver()).run(base: model, pairs: pairs, heldout: heldout)
        }
        try run(a, ["steps=4"])
        try run(b, ["steps=2"])
        try run(b, ["steps=4", "resume=auto"])
        let ca = try SafeTensorsReader(contentsOf: a + "/checkpoints/step-0000004.safetensors")
        let cb = try SafeTensorsReader(contentsOf: b + "/checkpoints/step-0000004.safetensors")
        XCTAssertEqual(ca.names, cb.names)
        for name in ca.names where name != "record.entries" && name != "record.updates" {
            XCTAssertEqual(try ca.floats(name), try cb.floats(name), name)
        }
        XCTAssertEqual(try ca.values("record.entries", as: Double.self), try cb.values("record.entries", as: Double.self))
        XCTAssertEqual(try ca.values("record.updates", as: Int64.self), try cb.values("record.updates", as: Int64.self))
        XCTAssertGreaterThan(try ca.values("record.updates", as: Int64.self).reduce(0, +), 0)
        for file in ["record.csv", "heldout.csv", "credit.csv", "record-history.csv"] {
            XCTAssertEqual(try String(contentsOfFile: a + "/" + file, encoding: .utf8),
                           try String(contentsOfFile: b + "/" + file, encoding: .utf8), file)
        }
        let metricsA = try String(contentsOfFile: a + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        let metricsB = try String(contentsOfFile: b + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metricsA.count, metricsB.count)
        XCTAssertEqual(metricsA.map { $0.split(separator: ",").dropLast() }, metricsB.map { $0.split(separator: ",").dropLast() },
                       "every column but the last (seconds)")
    }

    /// A stop request (SIGINT/SIGTERM in the binary) ends the step, writes its checkpoint and
    /// throws `Interrupted`; resuming gives the uninterrupted run's weights and record.
    func testInterruptedRunCheckpointsAndResumesExactly() throws {
        let (base, model, pairs) = try fixture()
        let common = base.settings.filter { $0.origin == .commandLine }.map { "\($0.key.name)=\($0.value.text)" }
            + ["loss=dde", "batch=4", "steps=3", "lr=1e-3", "beta=100", "train.checkpoint_every=100", "dde.record_buckets=10"]
        let a = temporaryFolder(), b = temporaryFolder()
        func tuner(_ folder: String, _ extra: [String] = []) throws -> FineTuner {
            FineTuner(settings: try RunSettings(try ConfigLoader.load(file: nil, overrides: common + extra)), folder: folder,
                      build: BuildInfo(commit: "test"), observer: SilentObserver())
        }
        try tuner(a).run(base: model, pairs: pairs)
        Interruption.request()
        defer { Interruption.reset() }
        XCTAssertThrowsError(try tuner(b).run(base: model, pairs: pairs)) { error in
            guard let stop = error as? Interrupted else { return XCTFail("\(error)") }
            XCTAssertEqual(stop.step, 1, "the first step finishes, then the run stops")
            XCTAssertEqual(stop.checkpoint, b + "/checkpoints/step-0000001.safetensors")
            XCTAssertTrue("\(stop)".contains("resume=auto"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: b + "/model.safetensors"))
        Interruption.reset()
        try tuner(b, ["resume=auto"]).run(base: model, pairs: pairs)
        let ma = try SafeTensorsReader(contentsOf: a + "/model.safetensors"), mb = try SafeTensorsReader(contentsOf: b + "/model.safetensors")
        for name in ma.names { XCTAssertEqual(try ma.floats(name), try mb.floats(name), name) }
        XCTAssertEqual(try String(contentsOfFile: a + "/record.csv", encoding: .utf8), try String(contentsOfFile: b + "/record.csv", encoding: .utf8))
    }

    /// One run per run folder: a second lock on the same folder is refused naming the holder,
    /// and the folder is free again once the first is released.
    /// KTO's class-balanced draws (`kto.positive_ratio`): a step at D = 0 costs lambda (1 -
    /// sigmoid(0)) = 0.5 as with pairs, the fine-tune moves, and a resume is exact (the draws come
    /// from the checkpointed order stream).
    func testKTOClassBalancedDrawsTrainAndResume() throws {
        let (base, model, pairs) = try fixture()
        let common = base.settings.filter { $0.origin == .commandLine }.map { "\($0.key.name)=\($0.value.text)" }
            + ["loss=kto", "batch=4", "lr=1e-3", "kto.positive_ratio=0.8", "train.log_every=0", "train.credit_every=0"]
        func run(_ folder: String, _ extra: [String]) throws {
            try FineTuner(settings: try RunSettings(try ConfigLoader.load(file: nil, overrides: common + extra)), folder: folder,
                          build: BuildInfo(commit: "test"), observer: SilentObserver()).run(base: model, pairs: pairs)
        }
        let whole = temporaryFolder(), resumed = temporaryFolder()
        try run(whole, ["steps=4"])
        try run(resumed, ["steps=2"])
        try run(resumed, ["steps=4", "resume=auto"])
        let rows = try String(contentsOfFile: whole + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        let header = rows[0].split(separator: ","), loss = header.firstIndex(of: "loss")!
        XCTAssertEqual(Double(rows[1].split(separator: ",")[loss])!, 0.5, accuracy: 1e-12)
        XCTAssertNotEqual(Double(rows[4].split(separator: ",")[loss])!, 0.5, "the policy moved")
        let (a, _) = try Checkpoint.loadModel(whole + "/model.safetensors"), (b, _) = try Checkpoint.loadModel(resumed + "/model.safetensors")
        XCTAssertEqual(a.contentDigest.hex, b.contentDigest.hex, "resumed = uninterrupted")
        XCTAssertEqual(try String(contentsOfFile: resumed + "/metrics.csv", encoding: .utf8).split(separator: "\n").count, rows.count)
    }

    /// The draws: each image desirable with probability r, taken from its class; with
    /// kto.labels = pair the desirable images are the winners.
    func testKTODrawsAreClassBalanced() throws {
        let labels = (0..<10).map { _ in (winner: true, loser: false) }
        let draws = try KTODraws(labels: labels, ratio: 0.8)
        var rng = RandomStream(seed: 3)
        let drawn = draws.draw(20000, rng: &rng)
        let share = Double(drawn.filter(\.desirable).count) / Double(drawn.count)
        XCTAssertEqual(share, 0.8, accuracy: 0.01)
        XCTAssertTrue(drawn.allSatisfy { $0.desirable == $0.winner }, "pair labels: winners desirable, losers not")
        XCTAssertEqual(Set(drawn.map(\.pair)).count, 10, "every pair's images are drawn")
        XCTAssertThrowsError(try KTODraws(labels: labels.map { _ in (true, true) }, ratio: 0.5)) {
            XCTAssertTrue("\($0)".contains("no undesirable image"), "\($0)")
        }
    }

    /// SmPO's soft label comes from the pairs' two scores: pairs without them (Pick-a-Pic rows
    /// need not carry scores) are refused with the reason, before anything is written.
    func testSmPORefusesPairsWithoutScores() throws {
        let (config, base, scored) = try fixture()
        var pairs = scored
        pairs.hasScores = false
        let folder = temporaryFolder()
        let settings = try RunSettings(try config.overriding(["loss": "smpo", "steps": "1", "batch": "2"]))
        XCTAssertThrowsError(try FineTuner(settings: settings, folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
                                .run(base: base, pairs: pairs)) {
            XCTAssertTrue("\($0)".contains("loss = smpo needs score_0 and score_1"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "nothing written")
    }

    func testRunLockRefusesASecondRun() throws {
        let folder = temporaryFolder()
        var first: RunLock? = try RunLock(folder: folder)
        XCTAssertThrowsError(try RunLock(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("another dde-train run is using it (pid \(getpid()))"), "\(error)")
            XCTAssertTrue("\(error)".contains(folder), "\(error)")
        }
        withExtendedLifetime(first) {}
        first = nil
        XCTAssertNoThrow(try RunLock(folder: folder))
    }

    /// The held-out accuracy, the record history and the credit probe only read the training
    /// state: a run that logs them ends with the same weights as one that does not, and the
    /// files hold a row per logged step (and per bucket).
    func testDiagnosticsLeaveTrainingUnchanged() throws {
        let (base, model, pairs) = try fixture()
        let heldout = PreferencePairs(pairs: Array(pairs.pairs.suffix(5)), ties: 0, skipped: [], annotator: "test")
        let common = base.settings.filter { $0.origin == .commandLine }.map { "\($0.key.name)=\($0.value.text)" }
            + ["batch=4", "steps=4", "lr=1e-3", "beta=100", "dde.record_buckets=10", "train.probe_pairs=3"]
        for loss in ["dde", "sft"] {
            let quiet = temporaryFolder(), logged = temporaryFolder()
            for (folder, extra) in [(quiet, ["train.log_every=0", "train.credit_every=0"]), (logged, ["train.log_every=1", "train.credit_every=2"])] {
                try FineTuner(settings: try RunSettings(try ConfigLoader.load(file: nil, overrides: common + extra + ["loss=\(loss)"])), folder: folder,
                              build: BuildInfo(commit: "test"), observer: SilentObserver()).run(base: model, pairs: pairs, heldout: heldout)
            }
            let q = try SafeTensorsReader(contentsOf: quiet + "/model.safetensors"), l = try SafeTensorsReader(contentsOf: logged + "/model.safetensors")
            for name in q.names { XCTAssertEqual(try q.floats(name), try l.floats(name), "\(loss): \(name)") }
            func lines(_ file: String) -> [Substring] {
                ((try? String(contentsOfFile: logged + "/" + file, encoding: .utf8)) ?? "").split(separator: "\n")
            }
            XCTAssertEqual(lines("heldout.csv").first, "step,loss,implicit_acc,z,d")
            XCTAssertEqual(lines("heldout.csv").count, 1 + 5, "\(loss): steps 0...4")
            XCTAssertEqual(lines("credit.csv").first, "step,bucket,t_low,t_high,density,mean_abs_dLdD,grad_norm")
            XCTAssertEqual(lines("credit.csv").count, 1 + 3 * 10, "\(loss): steps 0, 2, 4 x 10 buckets")
            XCTAssertEqual(lines("record-history.csv").count, loss == "dde" ? 1 + 5 * 10 : 0, loss)
            XCTAssertEqual(lines("heldout-by-t.csv").first, "step,t_low,t_high,pairs,accuracy,mean_z")
            XCTAssertEqual(lines("heldout-by-t.csv").count, 1 + 3 * 10, "\(loss): steps 0, 2, 4 x 10 tenths")
            let byT = lines("heldout-by-t.csv").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
            XCTAssertEqual(byT.prefix(10).map { $0[1] }, (0..<10).map { Double($0 * 100 + 1) }, "the tenths of 1..1000")
            XCTAssertTrue(byT.allSatisfy { $0[3] == 5 }, "every held-out pair in every tenth")
            XCTAssertTrue(byT.prefix(10).allSatisfy { $0[4] == 0.5 && $0[5] == 0 }, "step 0: z = 0, ties count half")
            XCTAssertFalse(FileManager.default.fileExists(atPath: quiet + "/heldout.csv"))
            // Step 0: the policy is the reference, so every held-out z is 0 and the loss ln 2.
            let first = lines("heldout.csv")[1].split(separator: ",")
            XCTAssertEqual(Double(first[1])!, log(2), accuracy: 1e-12, loss)
            XCTAssertEqual(Double(first[2])!, 0.5, "every z is 0 at step 0: ties count half")
            XCTAssertEqual(Double(first[4])!, 0, "D = 0 at step 0")
            let creditRows = lines("credit.csv").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
            XCTAssertTrue(creditRows.allSatisfy { abs($0[4] - 1) < 1e-9 }, "\(loss) draws t uniformly: density 1 everywhere")
            XCTAssertTrue(creditRows.allSatisfy { $0[6] > 0 && $0[6].isFinite }, "a gradient norm in every bucket")
        }
    }
}

extension FineTunerTests {
    /// A fine-tune's checkpoint continues only its own run: resuming with another learning
    /// rate or loss is refused naming the key (only `steps` may grow).
    func testResumeWithOtherSettingsIsRefused() throws {
        let base = scratchFolder(), folder = scratchFolder()
        let model = try Toy.pretrainer(base, ["pretrain.steps=2"]).run()
        try Toy.fineTuner(folder, ["steps=2"]).run(base: model, pairs: Toy.pairs())
        let checkpoint = folder + "/checkpoints/step-0000002.safetensors", other = scratchFolder()
        let text = errorText { try Toy.fineTuner(other, ["steps=3", "lr=2e-3", "resume=\(checkpoint)"]).run(base: model, pairs: Toy.pairs()) }
        XCTAssertTrue(text.hasSuffix("step-0000002.safetensors: a checkpoint of a run with other settings or inputs (lr: 0.001 -> 0.002); resume needs the same settings and inputs"), text)
        let finished = errorText { try Toy.fineTuner(folder, ["steps=3", "lr=2e-3", "resume=auto"]).run(base: model, pairs: Toy.pairs()) }
        XCTAssertTrue(finished.contains("holds a stage made with other settings (lr: 0.001 -> 0.002"), finished)
        XCTAssertNoThrow(try Toy.fineTuner(folder, ["steps=3", "resume=auto"]).run(base: model, pairs: Toy.pairs()), "more steps: allowed")
    }
}

extension FineTunerTests {
    /// Every loss learns the preference the right way round (issue 13): a short fine-tune on
    /// clean-beats-noisy pairs lowers the held-out mean D below its 0 at step 0 and raises the
    /// held-out implicit accuracy (over every tenth of 1..T, 240 pair evaluations) above its 0.5
    /// at step 0. With winner and loser swapped anywhere on the way (pairs, batch, D, z or the
    /// gradient's sign) both move the other way. (DDE-Step runs without its record term here: at
    /// this size the record's sum saturates z and stops its learning, which is not what this
    /// test is about.)
    func testShortFineTuneRaisesHeldOutAccuracyAndLowersD() throws {
        let (base, model, pairs) = try fixture()
        // Held-out pairs: new renders (other positions, sizes, hues, noise) of the same prompts.
        let dataset = ShapesDataset(prompts: ShapesWorld.split().train, size: 8, defectRate: 0)
        var rng = RandomStream(seed: 5)
        var heldout = PreferencePairs(pairs: [], ties: 0, skipped: [], annotator: "test")
        for prompt in ShapesWorld.split().train.prefix(12) + ShapesWorld.split().train.prefix(12) {
            var twin = rng
            let clean = dataset.renderClean(prompt, rng: &rng)
            let bad = ShapesRenderer(size: 8).render(prompt, defect: .noise, rng: &twin)
            heldout.pairs.append(.init(caption: prompt.text, winner: clean, loser: bad, winnerScore: 1, loserScore: 0))
        }
        let common = base.settings.filter { $0.origin == .commandLine }.map { "\($0.key.name)=\($0.value.text)" }
            + ["batch=6", "steps=40", "lr=2e-3", "train.log_every=40", "train.credit_every=40", "dde.record_buckets=10"]
        let losses = [["loss=sft"], ["loss=uniform", "beta=100"], ["loss=discounted", "beta=100"], ["loss=dde", "beta=10"],
                      ["loss=dde-single", "beta=10"], ["loss=dde-step", "beta=2000", "dde.correction_scale=0"]]
        for extra in losses {
            let folder = temporaryFolder(), loss = extra[0]
            try FineTuner(settings: try RunSettings(try ConfigLoader.load(file: nil, overrides: common + extra)),
                          folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
                .run(base: model, pairs: pairs, heldout: heldout)
            func rows(_ file: String) throws -> [[Double]] {
                try String(contentsOfFile: folder + "/" + file, encoding: .utf8).split(separator: "\n").dropFirst()
                    .map { $0.split(separator: ",").map { Double($0)! } }
            }
            let heldoutRows = try rows("heldout.csv"), byT = try rows("heldout-by-t.csv")
            XCTAssertEqual(heldoutRows.map { $0[0] }, [0, 40], loss)
            XCTAssertEqual(heldoutRows[0][4], 0, "\(loss): D at step 0")
            XCTAssertLessThan(heldoutRows[1][4], 0, "\(loss): held-out mean D after 40 steps")
            XCTAssertEqual(byT.count, 20, loss)
            XCTAssertTrue(byT.prefix(10).allSatisfy { $0[4] == 0.5 }, "\(loss): step 0")
            let accuracy = byT.suffix(10).map { $0[4] }.reduce(0, +) / 10
            XCTAssertGreaterThan(accuracy, 0.5, "\(loss): held-out implicit accuracy over the tenths after 40 steps")
        }
    }
}

extension FineTunerTests {
    /// `train.grad_accum` (issue 13): a step's pairs in two or four micro-batches give the same
    /// weights, loss and DDE record as one batch, up to Float rounding (the micro-batches' sums
    /// are added in another order); the record is updated once per step from all the pairs.
    /// (`adam_eps = 1` makes AdamW's update proportional to the gradient: with the default eps
    /// AdamW divides a near-zero gradient by its own size, so rounding flips whole lr-sized
    /// steps, which would hide a real difference as well as show a false one.)
    func testMicroBatchesGiveTheBatchsStep() throws {
        let (base, model, pairs) = try fixture()
        let common = base.settings.filter { $0.origin == .commandLine }.map { "\($0.key.name)=\($0.value.text)" }
            + ["loss=dde", "batch=8", "steps=3", "lr=0.5", "adam_eps=1", "beta=100", "dde.record_buckets=10", "train.log_every=0",
               "train.credit_every=0"]
        var results: [(weights: [Float], record: [Double], updates: [Int], loss: [Double])] = []
        for accum in [1, 2, 4] {
            let folder = temporaryFolder()
            try FineTuner(settings: try RunSettings(try ConfigLoader.load(file: nil, overrides: common + ["train.grad_accum=\(accum)"])),
                          folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver()).run(base: model, pairs: pairs)
            let file = try SafeTensorsReader(contentsOf: folder + "/model.safetensors")
            let weights = try file.names.sorted().flatMap { try file.floats($0) }
            let record = try XCTUnwrap(CSVTable.load(folder + "/record.csv"))
            let metrics = try XCTUnwrap(CSVTable.load(folder + "/metrics.csv"))
            results.append((weights, record.numbers("value").map { $0! }, record.numbers("updates").map { Int($0!) },
                            metrics.numbers("loss").map { $0! }))
        }
        let one = results[0]
        let scale = one.weights.map { abs($0) }.max()!
        for (i, r) in results.enumerated().dropFirst() {
            let worst = zip(r.weights, one.weights).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5 * scale, "grad_accum \([1, 2, 4][i]): weights")
            XCTAssertGreaterThan(zip(r.weights, one.weights).map { abs($0 - $1) }.reduce(0, +), 0, "rounding differs: the micro-batches ran")
            XCTAssertEqual(r.updates, one.updates, "one record update per step")
            // D is a small difference of per-image errors (~1e-5 of errors ~0.5), so the weights'
            // rounding reaches it and the record (lambda D) at about 1e-4 of the largest entry,
            // and the loss (through beta b2_t, up to 1e4 here) at about 1e-4.
            let recordScale = one.record.map(abs).max()!
            for (a, b) in zip(r.record, one.record) { XCTAssertEqual(a, b, accuracy: 1e-4 * recordScale) }
            XCTAssertEqual(r.loss[0], log(2), accuracy: 1e-12, "step 1: policy = reference")
            for (a, b) in zip(r.loss, one.loss) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        }
    }
}
