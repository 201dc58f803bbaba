import XCTest
import DDECore

/// The cross-attention U-Net (`UNet2DConditionModel`) against its naive twin written after
/// diffusers' forward, every parameter tensor and the encoder hidden states against finite
/// differences of the twin in Double, diffusers' tensor names and shapes, and a forward without
/// activations predicting the same bits.
final class UNet2DConditionTests: XCTestCase {
    /// SD 1.5's shape in miniature: attention at every level but the lowest resolution, a
    /// cross-attention mid block; `attention_head_dim` is the number of heads (diffusers' quirk).
    static let sdLike = UNet2DConditionConfig(downBlockTypes: [.crossAttention, .plain], upBlockTypes: [.plain, .crossAttention],
                                              blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4,
                                              crossAttentionDim: 6, attentionHeads: [2, 4], transformerLayersPerBlock: [1, 1],
                                              sampleSize: 4)
    /// SDXL-like: linear projections, more transformer layers at the lower resolution, two
    /// layers per block, the time embedding unflipped and shifted, a different norm eps.
    static let sdxlLike = UNet2DConditionConfig(downBlockTypes: [.crossAttention, .crossAttention],
                                                upBlockTypes: [.crossAttention, .crossAttention],
                                                blockOutChannels: [8, 16], layersPerBlock: 2, normNumGroups: 4, normEps: 1e-4,
                                                crossAttentionDim: 5, attentionHeads: [2, 4], transformerLayersPerBlock: [1, 2],
                                                useLinearProjection: true, flipSinToCos: false, freqShift: 1, sampleSize: 4)

    func testParameterNamesAndShapesAreDiffusers() {
        let store = ParameterStore()
        _ = UNet2DConditionModel(Self.sdLike, store: store, workspace: Workspace())
        store.seal()
        let shapes = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, $0.shape) })
        XCTAssertEqual(shapes["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"], [8, 8])
        XCTAssertEqual(shapes["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"], [8, 6])
        XCTAssertEqual(shapes["down_blocks.0.attentions.0.proj_in.weight"], [8, 8, 1, 1])
        XCTAssertEqual(shapes["down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"], [64, 8])
        XCTAssertEqual(shapes["mid_block.attentions.0.transformer_blocks.0.attn2.to_v.weight"], [16, 6])
        XCTAssertEqual(shapes["up_blocks.1.attentions.1.transformer_blocks.0.attn1.to_out.0.bias"], [8])
        XCTAssertEqual(shapes["up_blocks.0.resnets.0.conv1.weight"], [16, 32, 3, 3])
        XCTAssertEqual(shapes["up_blocks.1.resnets.1.conv_shortcut.weight"], [8, 16, 1, 1])
        XCTAssertNil(shapes["up_blocks.1.resnets.2.conv1.weight"], "up blocks have layers_per_block + 1 resnets")
        XCTAssertNil(shapes["down_blocks.1.attentions.0.norm.weight"], "DownBlock2D has no attention")
        XCTAssertNil(shapes["up_blocks.0.attentions.0.norm.weight"], "UpBlock2D has no attention")
        XCTAssertNil(shapes["time_embedding.cond_proj.weight"])
        XCTAssertNotNil(shapes["mid_block.resnets.1.conv2.weight"])
        XCTAssertEqual(Self.sdLike.problem, nil)
        var bad = Self.sdLike
        bad.attentionHeads = [3, 4]
        XCTAssertEqual(bad.problem, "attention heads 3 at level 0 do not divide its 8 channels")
    }

    /// Tolerance 2e-3 (the attention-free U-Net's test: 1e-3): the fast network runs in Float
    /// through ~40 layers here, and its smallest parameter gradients (deep layer-norm weights,
    /// 1e-6 against 1e-2 for the largest) carry ~1e-3 relative rounding error; a wiring mistake
    /// gives errors of order 1.
    func testWholeNetworkMatchesNaiveTwinAndFiniteDifferences() {
        for (config, threads) in [(Self.sdLike, 1), (Self.sdxlLike, 2)] {
            var data = TestData(seed: 61)
            let store = ParameterStore()
            let unet = UNet2DConditionModel(config, store: store, workspace: Workspace(threads: threads))
            store.seal()
            var rng = RandomStream(seed: 4)
            unet.initialize(&rng)
            for slot in store.slots where slot.name.contains("norm") { load(store, slot, data.normal(slot.count, scale: 0.3).map { $0 + 1 }) }
            let n = 2, lc = 3, d = 3 * config.sampleSize * config.sampleSize
            let x = data.normal(n * d), ctx = data.normal(n * lc * config.crossAttentionDim), steps: [Float] = [3, 917]
            let mem = TestArena()
            defer { mem.free() }
            let xp = mem.copy(x), cp = mem.copy(ctx)
            let pred = array(unet.forward(xp, steps: steps, encoderHiddenStates: cp, contextTokens: lc, n: n), n * d)
            var params = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
            func naive(_ ctx: [Double]) -> [Double] {
                Naive.unet2DCondition(config, params, x: x.doubles, steps: steps.map(Double.init), context: ctx, contextTokens: lc, n: n)
            }
            let what = "unet2DCondition \(config.blockOutChannels)"
            assertClose(pred, naive(ctx.doubles).map(Float.init), "\(what) forward")

            let r = data.normal(n * d), rd = r.doubles
            store.zeroGrads()
            unet.backward(mem.copy(r))
            GradCheck.check("\(what) d context", analytic: unet.contextGradient.array(ctx.count), at: ctx.doubles, tolerance: 1e-3) {
                dotD(rd, naive($0))
            }
            for slot in store.slots where !slot.name.hasSuffix("to_k.bias") {
                let saved = params[slot.name]!
                GradCheck.check("\(what) \(slot.name)", analytic: readGrad(store, slot), at: saved, tolerance: 2e-3, maxCoordinates: 2) {
                    params[slot.name] = $0
                    defer { params[slot.name] = saved }
                    return dotD(rd, naive(ctx.doubles))
                }
            }
        }
    }

    /// A forward that keeps no activations (the frozen reference, sampling) predicts the same bits.
    func testForwardWithoutActivationsPredictsTheSame() {
        let config = Self.sdLike
        var data = TestData(seed: 62)
        let n = 3, lc = 4, d = 3 * 16
        let x = data.normal(n * d), ctx = data.normal(n * lc * config.crossAttentionDim), steps: [Float] = [1, 400, 999]
        func run(keep: Bool) -> [Float] {
            let store = ParameterStore()
            let unet = UNet2DConditionModel(config, store: store, workspace: Workspace())
            store.seal()
            var rng = RandomStream(seed: 5)
            unet.initialize(&rng)
            let mem = TestArena()
            defer { mem.free() }
            return array(unet.forward(mem.copy(x), steps: steps, encoderHiddenStates: mem.copy(ctx), contextTokens: lc, n: n,
                                      keepActivations: keep), n * d)
        }
        XCTAssertEqual(run(keep: true), run(keep: false))
    }

    /// The text-to-image model of this architecture: the prompts through the tokenizer and the
    /// text encoder into the U-Net's cross-attention, forward against the naive composition and
    /// the text encoder's and the U-Net's gradients (through `backward`) against finite
    /// differences of it; the empty prompt (guidance's unconditional input) is an all-padding row.
    func testTextToImageModelTrainsTheTextEncoderThroughCrossAttention() {
        let tokenizer = Tokenizer(captions: ["red circle", "blue square on red"], maxTokens: 4)
        var unet = Self.sdLike
        unet.crossAttentionDim = 8
        let text = TextEncoderConfig(vocabularySize: tokenizer.vocabularySize, width: 8, layers: 1, heads: 2, intermediate: 12,
                                     length: 4)
        let model = TextToImageModel(.unet2DCondition(unet, textEncoder: text), tokenizer: tokenizer, workspace: Workspace(threads: 2))
        var rng = RandomStream(seed: 6)
        model.initialize(&rng)
        var data = TestData(seed: 63)
        for slot in model.store.slots where slot.name.hasPrefix("text_encoder") {
            load(model.store, slot, read(model.store, slot).map { $0 + 0.2 * data.normal(1)[0] })
        }
        XCTAssertEqual(model.conditioningCount, 4 * 8)
        let prompts = ["red circle", "", "blue square on red"], n = prompts.count, d = model.imageSize
        let ids = prompts.flatMap { tokenizer.encode($0) }
        XCTAssertEqual(Array(ids[4..<8]), [Tokenizer.pad, Tokenizer.pad, Tokenizer.pad, Tokenizer.pad], "the empty prompt is all padding")
        let x = data.normal(n * d), steps: [Float] = [5, 500, 990]
        let mem = TestArena()
        defer { mem.free() }
        let pred = array(model.predictNoise(mem.copy(x), steps: steps, prompts: prompts), n * d)
        var params = Dictionary(uniqueKeysWithValues: model.store.slots.map { ($0.name, read(model.store, $0).doubles) })
        func naive() -> [Double] {
            let context = Naive.clipTextEncoder(params, ids: ids, batch: n, config: text)
            return Naive.unet2DCondition(unet, params, x: x.doubles, steps: steps.map(Double.init), context: context,
                                         contextTokens: 4, n: n)
        }
        assertClose(pred, naive().map(Float.init), "text-to-image forward")
        let r = data.normal(n * d), rd = r.doubles
        model.store.zeroGrads()
        model.backward(mem.copy(r))
        let checked = model.store.slots.filter {
            $0.name.hasPrefix("text_encoder") && !$0.name.hasSuffix("k_proj.bias")
                || $0.name.hasPrefix("down_blocks.0.attentions.0.transformer_blocks.0.attn2")
        }
        for slot in checked {
            let saved = params[slot.name]!
            GradCheck.check("text-to-image \(slot.name)", analytic: readGrad(model.store, slot), at: saved, tolerance: 2e-3,
                            maxCoordinates: 3) {
                params[slot.name] = $0
                defer { params[slot.name] = saved }
                return dotD(rd, naive())
            }
        }
    }
}
