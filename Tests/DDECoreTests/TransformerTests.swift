import XCTest
import DDECore

/// `Transformer2DModel` (and through it `TokenProjection`, `BasicTransformerBlock`,
/// `FeedForward`) against the naive composition of the definitions, and every gradient (input,
/// context, each parameter tensor) against finite differences of that composition in Double.
final class TransformerTests: XCTestCase {
    func testTransformer2DMatchesNaiveAndFiniteDifferences() {
        var data = TestData(seed: 51)
        for (linearProjection, layers, threads) in [(false, 1, 1), (true, 2, 2)] {
            let ws = Workspace(threads: threads), store = ParameterStore()
            let b = 2, c = 8, height = 3, width = 2, lc = 3, dc = 5, heads = 2, dh = 4, groups = 2
            let model = Transformer2DModel(store, "attn", channels: c, heads: heads, headDimension: dh, layers: layers,
                                           contextDimension: dc, groups: groups, linearProjection: linearProjection)
            store.seal()
            var rng = RandomStream(seed: 3, stream: 1)
            model.initialize(store, &rng)
            // Norm weights away from their init (1, 0) so their gradients are exercised fully.
            for slot in store.slots where slot.name.contains("norm") {
                load(store, slot, read(store, slot).map { $0 + 0.3 * data.normal(1)[0] })
            }
            XCTAssertEqual(store.slot(named: "attn.proj_in.weight")!.shape, linearProjection ? [heads * dh, c] : [heads * dh, c, 1, 1])
            XCTAssertNotNil(store.slot(named: "attn.transformer_blocks.0.attn2.to_k.weight"))
            XCTAssertNil(store.slot(named: "attn.transformer_blocks.0.attn1.to_q.bias"), "SD's attention has no q/k/v bias")
            let x = data.normal(b * c * height * width), ctx = data.normal(b * lc * dc), r = data.normal(x.count)
            let mem = TestArena()
            defer { mem.free() }
            let xp = mem.copy(x), cp = mem.copy(ctx)
            let out = model.forward(xp, context: cp, batch: b, height: height, width: width, contextTokens: lc, store, ws)
            let params = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
            func naive(_ p: [String: [Double]], _ x: [Double], _ ctx: [Double]) -> [Double] {
                Naive.transformer2D(p, "attn", x, context: ctx, batch: b, channels: c, height: height, width: width,
                                    contextTokens: lc, contextDimension: dc, heads: heads, headDimension: dh, layers: layers,
                                    groups: groups)
            }
            let what = "transformer (linear projection \(linearProjection), \(layers) layers)"
            assertClose(array(out, x.count), naive(params, x.doubles, ctx.doubles).map(Float.init), "\(what) forward")
            store.zeroGrads()
            let dx = mem.filled(x.count, 0.5), dctx = mem.filled(ctx.count, -0.5)
            model.backward(dOut: mem.copy(r), x: xp, context: cp, dx: dx, dContext: dctx, store, ws)
            let rd = r.doubles
            GradCheck.check("\(what) dx", analytic: array(dx, x.count).map { $0 - 0.5 }, at: x.doubles) {
                dotD(rd, naive(params, $0, ctx.doubles))
            }
            GradCheck.check("\(what) dcontext", analytic: array(dctx, ctx.count).map { $0 + 0.5 }, at: ctx.doubles) {
                dotD(rd, naive(params, x.doubles, $0))
            }
            for slot in store.slots where !slot.name.hasSuffix("to_k.bias") {
                GradCheck.check("\(what) d\(slot.name)", analytic: readGrad(store, slot), at: params[slot.name]!, maxCoordinates: 24) {
                    var p = params
                    p[slot.name] = $0
                    return dotD(rd, naive(p, x.doubles, ctx.doubles))
                }
            }
        }
    }

    /// The memory estimate's per-token counts for a transformer (`MemoryEstimate`, what dry_run
    /// prints and the config check uses) against the floats its forward really reserves, with
    /// and without activations kept: at least what it says, and at most that plus one thread's
    /// score matrix, the context's keys and values and the small per-row caches (the layer
    /// norms' and attention's statistics). Without activations, a second transformer reserves
    /// nothing more than its output (the scratch is the workspace's), and predicts the same bits.
    func testMemoryEstimateMatchesTheBuffersAForwardReserves() {
        var data = TestData(seed: 52)
        for layers in [1, 2] {
            let ws = Workspace(threads: 1), store = ParameterStore()
            let b = 3, c = 16, side = 8, lc = 4, dc = 6, tokens = side * side
            let model = Transformer2DModel(store, "attn", channels: c, heads: 2, headDimension: 8, layers: layers,
                                           contextDimension: dc, groups: 4, linearProjection: false)
            store.seal()
            var rng = RandomStream(seed: 5)
            model.initialize(store, &rng)
            let mem = TestArena()
            defer { mem.free() }
            let x = mem.copy(data.normal(b * c * tokens)), ctx = mem.copy(data.normal(b * lc * dc))
            let before = FloatBuffer.liveFloats
            model.forward(x, context: ctx, batch: b, height: side, width: side, contextTokens: lc, store, ws)
            let reserved = FloatBuffer.liveFloats - before
            // what the model keeps, and the scratch's normalised input and gate output (5 C)
            let estimate = (MemoryEstimate.transformerFloatsPerToken(width: c, blocks: layers) + 5 * c) * b * tokens
            XCTAssertGreaterThanOrEqual(reserved, estimate - 2 * layers * b * lc * c, "\(layers) blocks: the estimate counts more than is reserved")
            XCTAssertLessThanOrEqual(reserved, estimate + tokens * tokens + 16 * layers * b * tokens,
                                     "\(layers) blocks: a forward reserves \(reserved) floats, the estimate says \(estimate)")

            // Without activations: two fresh transformers on one fresh workspace.
            let ws2 = Workspace(threads: 1), store2 = ParameterStore()
            let twins = (0..<2).map { i in
                Transformer2DModel(store2, "twin\(i)", channels: c, heads: 2, headDimension: 8, layers: layers,
                                   contextDimension: dc, groups: 4, linearProjection: false)
            }
            store2.seal()
            for slot in store2.slots {  // both twins get the first model's weights
                let original = store.slot(named: "attn" + slot.name.dropFirst("twin0".count))!
                store2.parameters(slot).update(from: store.parameters(original), count: slot.count)
            }
            var growth: [Int] = []
            var outputs: [[Float]] = []
            for twin in twins {
                let start = FloatBuffer.liveFloats
                let out = twin.forward(x, context: ctx, batch: b, height: side, width: side, contextTokens: lc, store2, ws2,
                                       keepActivations: false)
                growth.append(FloatBuffer.liveFloats - start)
                outputs.append(array(out, b * c * tokens))
            }
            let kept = array(model.forward(x, context: ctx, batch: b, height: side, width: side, contextTokens: lc, store, ws), b * c * tokens)
            XCTAssertEqual(outputs[0], kept, "\(layers) blocks: the transient forward predicts other bits")
            XCTAssertEqual(outputs[1], kept, "\(layers) blocks: the second transformer predicts other bits")
            let scratch = MemoryEstimate.transformerScratchFloatsPerToken(width: c) * b * tokens, output = c * b * tokens
            XCTAssertGreaterThanOrEqual(growth[0], scratch + output, "\(layers) blocks: the scratch estimate counts more than is reserved")
            XCTAssertLessThanOrEqual(growth[0], scratch + output + tokens * tokens + 16 * layers * b * tokens,
                                     "\(layers) blocks: a transient forward reserves \(growth[0]) floats, the estimate says \(scratch + output)")
            XCTAssertLessThanOrEqual(growth[1], output + 16 * layers * b * tokens,
                                     "\(layers) blocks: a second transformer reserved \(growth[1]) floats beyond its output and caches")
        }
    }
}
