import XCTest
import DDECore

/// LoRA (issue 16): the adapted network against the naive twin with merged weights W + s B A,
/// the adapters' gradients against finite differences of that twin, step 0 and adapters-off equal
/// to the base bit for bit, dropout's masks, a target that matches nothing, and the fine-tune:
/// the base's weights bit-identical after it, only adapters in its files, exact resume.
final class LoRATests: XCTestCase {
    static let settings = LoRAAdapters.Settings(rank: 3, alpha: 6, targets: ["to_q", "to_k", "to_v", "to_out.0"], dropout: 0)

    /// The U-Net with adapters on its attention projections (B random, so A has gradients too)
    /// is the naive twin with merged weights; every adapter tensor's gradient passes finite
    /// differences of that twin (tolerance as the whole network's own test, 2e-3); the base's
    /// linear weights get no gradient while only adapters train.
    func testAdaptedNetworkIsTheMergedTwinAndAdapterGradientsPassFiniteDifferences() throws {
        let config = UNet2DConditionTests.sdLike
        var data = TestData(seed: 71)
        let store = ParameterStore()
        let unet = UNet2DConditionModel(config, store: store, workspace: Workspace(threads: 2))
        store.seal()
        var rng = RandomStream(seed: 4)
        unet.initialize(&rng)
        let lora = try LoRAAdapters(Self.settings, candidates: store.linearWeightSlots)
        lora.initialize(&rng)
        XCTAssertEqual(lora.adapters.count, 4 * 2 * 4, "four projections in each of the four transformer blocks' two attentions")
        for adapter in lora.adapters { load(lora.store, adapter.b, data.normal(adapter.b.count, scale: 0.3)) }
        store.lora = lora
        store.trainsWeights = false
        XCTAssertEqual(lora.store.slots.first?.name, "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight")

        let n = 2, lc = 3, d = 3 * config.sampleSize * config.sampleSize
        let x = data.normal(n * d), ctx = data.normal(n * lc * config.crossAttentionDim), steps: [Float] = [3, 917]
        let mem = TestArena()
        defer { mem.free() }
        let pred = array(unet.forward(mem.copy(x), steps: steps, encoderHiddenStates: mem.copy(ctx), contextTokens: lc, n: n), n * d)
        let base = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
        var adapters = Dictionary(uniqueKeysWithValues: lora.store.slots.map { ($0.name, read(lora.store, $0).doubles) })
        func merged() -> [String: [Double]] {
            var params = base
            for a in lora.adapters {
                let A = adapters[a.a.name]!, B = adapters[a.b.name]!, r = Self.settings.rank, scale = Self.settings.alpha / Double(r)
                var w = params[a.base.name]!
                for o in 0..<a.outFeatures {
                    for i in 0..<a.inFeatures {
                        w[o * a.inFeatures + i] += scale * (0..<r).reduce(0.0) { $0 + B[o * r + $1] * A[$1 * a.inFeatures + i] }
                    }
                }
                params[a.base.name] = w
            }
            return params
        }
        func naive() -> [Double] {
            Naive.unet2DCondition(config, merged(), x: x.doubles, steps: steps.map(Double.init), context: ctx.doubles, contextTokens: lc, n: n)
        }
        assertClose(pred, naive().map(Float.init), "the adapted forward against the merged twin")

        let r = data.normal(n * d), rd = r.doubles
        store.zeroGrads()
        lora.store.zeroGrads()
        unet.backward(mem.copy(r))
        let toQ = try XCTUnwrap(store.slot(named: "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"))
        XCTAssertTrue(readGrad(store, toQ).allSatisfy { $0 == 0 }, "a frozen linear weight gets no gradient")
        for name in ["down_blocks.0.resnets.0.conv1.weight", "up_blocks.1.resnets.0.conv_shortcut.weight"] {
            let conv = try XCTUnwrap(store.slot(named: name))
            XCTAssertTrue(readGrad(store, conv).allSatisfy { $0 == 0 }, "\(name): a frozen convolution weight gets no gradient")
        }
        for slot in lora.store.slots {
            let saved = adapters[slot.name]!
            GradCheck.check("LoRA \(slot.name)", analytic: readGrad(lora.store, slot), at: saved, tolerance: 2e-3, maxCoordinates: 3) {
                adapters[slot.name] = $0
                defer { adapters[slot.name] = saved }
                return dotD(rd, naive())
            }
        }
    }

    func conditionModel(seed: UInt64 = 6) -> TextToImageModel {
        let tokenizer = Tokenizer(captions: ["red circle", "blue square on red"], maxTokens: 4)
        var unet = UNet2DConditionTests.sdLike
        unet.crossAttentionDim = 8
        let text = TextEncoderConfig(vocabularySize: tokenizer.vocabularySize, width: 8, layers: 1, heads: 2, intermediate: 12, length: 4)
        let model = TextToImageModel(.unet2DCondition(unet, textEncoder: text), tokenizer: tokenizer, workspace: Workspace(threads: 2))
        var rng = RandomStream(seed: seed)
        model.initialize(&rng)
        return model
    }

    /// B = 0 at attachment: the adapted model predicts the base's bits; with B changed the
    /// prediction moves, and with the adapters off it is the base's bits again (the reference of
    /// a LoRA fine-tune). The content digest tells the adapted model from its base; `baseDigest` does not.
    func testStepZeroAndAdaptersOffAreTheBaseBitForBit() throws {
        let model = conditionModel()
        var data = TestData(seed: 72)
        let prompts = ["red circle", "", "blue square on red"], d = model.imageSize
        let x = data.normal(prompts.count * d), steps: [Float] = [5, 500, 990]
        let mem = TestArena()
        defer { mem.free() }
        func predict(keep: Bool = true) -> [Float] {
            array(model.predictNoise(mem.copy(x), steps: mem.copy(steps), prompts: prompts, keepActivations: keep), prompts.count * d)
        }
        let base = predict(), baseDigest = model.contentDigest
        var rng = RandomStream(seed: 9)
        let lora = try model.attachLoRA(Self.settings, rng: &rng)
        assertIdentical(predict(), base, "step 0 (B = 0) is the base")
        for adapter in lora.adapters { load(lora.store, adapter.b, data.normal(adapter.b.count, scale: 0.5)) }
        let adapted = predict()
        XCTAssertNotEqual(adapted, base)
        assertIdentical(model.withAdaptersOff { predict(keep: false) }, base, "adapters off is the base")
        XCTAssertTrue(lora.enabled, "withAdaptersOff puts them back on")
        assertIdentical(predict(keep: false), adapted, "and on again is the adapted model")
        XCTAssertEqual(model.baseDigest.hex, baseDigest.hex)
        XCTAssertNotEqual(model.contentDigest.hex, baseDigest.hex)
    }

    /// Dropout acts only while training, from the step's seed: the same seed gives the same
    /// masks (a resume redraws them), another seed others; about p of the inputs are dropped.
    func testDropoutMasksComeFromTheStepSeedAndOnlyWhileTraining() throws {
        let model = conditionModel()
        var data = TestData(seed: 73)
        var rng = RandomStream(seed: 9)
        var settings = Self.settings
        settings.dropout = 0.5
        let lora = try model.attachLoRA(settings, rng: &rng)
        for adapter in lora.adapters { load(lora.store, adapter.b, data.normal(adapter.b.count, scale: 0.5)) }
        let prompts = ["red circle", "blue square on red"], d = model.imageSize
        let x = data.normal(prompts.count * d), steps: [Float] = [5, 990]
        let mem = TestArena()
        defer { mem.free() }
        func predict(training: Bool, seed: UInt64) -> [Float] {
            lora.training = training
            defer { lora.training = false }
            lora.dropoutSeed = seed
            return array(model.predictNoise(mem.copy(x), steps: mem.copy(steps), prompts: prompts), prompts.count * d)
        }
        let evaluation = predict(training: false, seed: 1)
        assertIdentical(predict(training: false, seed: 2), evaluation, "no dropout outside training")
        let a = predict(training: true, seed: 1)
        assertIdentical(predict(training: true, seed: 1), a, "the same step seed, the same masks")
        XCTAssertNotEqual(predict(training: true, seed: 2), a)
        XCTAssertNotEqual(a, evaluation)
    }

    /// A target that names no linear layer is refused with its name.
    func testATargetThatMatchesNothingIsNamed() {
        let model = conditionModel()
        var rng = RandomStream(seed: 1)
        var settings = Self.settings
        settings.targets = ["to_q", "to_qq"]
        let text = errorText { try model.attachLoRA(settings, rng: &rng) }
        XCTAssertTrue(text.contains("'to_qq' matches no linear layer"), text)
        XCTAssertNil(model.lora)
    }

    /// The config is refused before anything runs when a target matches no linear layer of the
    /// configured network: the attention-free one has no attention projections at all.
    func testTheConfigRefusesTargetsTheNetworkLacks() {
        let plain = errorText { try ConfigLoader.load(file: nil, overrides: ["lora.rank=4"]) }
        XCTAssertTrue(plain.contains("lora.targets") && plain.contains("'to_q' matches no linear layer of this UNet2DModel"), plain)
        let typo = errorText {
            try ConfigLoader.load(file: nil, overrides: ["lora.rank=4", "model.class=UNet2DConditionModel", "lora.targets=to_q,to_kk"])
        }
        XCTAssertTrue(typo.contains("'to_kk' matches no linear layer of this UNet2DConditionModel"), typo)
        XCTAssertNoThrow(try ConfigLoader.load(file: nil, overrides: ["lora.rank=4", "model.class=UNet2DConditionModel",
                                                                      "lora.targets=to_q,ff.net.2,time_emb_proj"]))
        // proj_in and proj_out (token projections, linear or 1x1 convolutions) carry no adapters here.
        let projection = errorText {
            try ConfigLoader.load(file: nil, overrides: ["lora.rank=4", "model.class=UNet2DConditionModel", "use_linear_projection=true",
                                                         "lora.targets=to_q,proj_in"])
        }
        XCTAssertTrue(projection.contains("'proj_in' matches no linear layer"), projection)
    }

    /// A LoRA fine-tune (uniform, rank 2, dropout 0.1) of a tiny cross-attention base: its first
    /// loss is ln 2 (the reference is the policy with adapters off); its files hold the adapters
    /// and their moments alone; the base file is unchanged and the policy's base weights are the
    /// base file's bit for bit after training; the model file loads as base + adapters; and a run
    /// stopped at step 2 and resumed ends bit-identical to an uninterrupted one.
    func testLoRAFineTuneKeepsTheBaseAndResumesExactly() throws {
        let root = scratchFolder()
        let condition = ["model.class=UNet2DConditionModel", "cross_attention_dim=8", "attention_head_dim=2",
                         "text_encoder.layers=1", "text_encoder.heads=2", "text_encoder.intermediate_size=16", "pretrain.steps=3"]
        let basePath = try Toy.pretrainer(root + "/pretrain", condition).run()
        let baseBytes = try tensorBytes(basePath)
        let pairs = Toy.pairs()
        let lora = condition + ["loss=uniform", "lora.rank=2", "lora.dropout=0.1", "train.log_every=1", "train.credit_every=2",
                                "train.probe_pairs=2"]
        let heldout = PreferencePairs(pairs: Array(pairs.pairs.suffix(4)), ties: 0, skipped: [], annotator: "test")
        let a = root + "/a", b = root + "/b"
        try Toy.fineTuner(a, lora + ["steps=4"]).run(base: basePath, pairs: pairs, heldout: heldout)
        try Toy.fineTuner(b, lora + ["steps=2"]).run(base: basePath, pairs: pairs, heldout: heldout)
        try Toy.fineTuner(b, lora + ["steps=4", "resume=auto"]).run(base: basePath, pairs: pairs, heldout: heldout)

        let metrics = try String(contentsOfFile: a + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        let header = metrics[0].split(separator: ","), first = metrics[1].split(separator: ",")
        XCTAssertEqual(Double(first[header.firstIndex(of: "loss")!])!, log(2), accuracy: 1e-12, "policy == reference at step 0")
        XCTAssertEqual(try tensorBytes(basePath), baseBytes, "the base file is untouched")

        let file = try SafeTensorsReader(contentsOf: a + "/model.safetensors")
        XCTAssertTrue(file.names.allSatisfy { $0.contains(".lora_A.") || $0.contains(".lora_B.") }, "\(file.names)")
        let (tuned, _) = try Checkpoint.loadModel(a + "/model.safetensors", workspace: Workspace())
        let base = try Checkpoint.loadModel(basePath, workspace: Workspace()).model
        XCTAssertEqual(tuned.store.params.array(tuned.store.count), base.store.params.array(base.store.count),
                       "the base weights are bit-identical after the fine-tune")
        let trained = try XCTUnwrap(tuned.lora)
        XCTAssertTrue(trained.adapters.contains { read(trained.store, $0.b).contains { $0 != 0 } }, "the adapters trained")

        let ca = try SafeTensorsReader(contentsOf: a + "/checkpoints/step-0000004.safetensors")
        let cb = try SafeTensorsReader(contentsOf: b + "/checkpoints/step-0000004.safetensors")
        XCTAssertEqual(ca.names, cb.names)
        XCTAssertTrue(ca.names.contains("adam.m"))
        for name in ca.names { XCTAssertEqual(try ca.floats(name), try cb.floats(name), name) }
        for name in ["heldout.csv", "credit.csv"] {
            XCTAssertEqual(try String(contentsOfFile: a + "/" + name, encoding: .utf8), try String(contentsOfFile: b + "/" + name, encoding: .utf8), name)
        }
    }
}
