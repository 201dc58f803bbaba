import XCTest
import DDECore

final class CLIPTextEncoderTests: XCTestCase {
    /// The encoder against the naive composition of its definition, and every parameter's
    /// gradient by finite differences (a token id appears twice, so the embedding's scatter
    /// accumulates; one row is all padding, the empty prompt).
    func testEncoderMatchesNaiveAndFiniteDifferences() {
        let config = TextEncoderConfig(vocabularySize: 7, width: 8, layers: 2, heads: 2, intermediate: 12, length: 4)
        let ws = Workspace(threads: 2), store = ParameterStore()
        let encoder = CLIPTextEncoder(store, config)
        store.seal()
        var rng = RandomStream(seed: 4, stream: 1)
        encoder.initialize(store, &rng)
        var data = TestData(seed: 61)
        // Weights away from CLIP's small init so every term matters at the check's scale.
        for slot in store.slots { load(store, slot, read(store, slot).map { $0 + 0.2 * data.normal(1)[0] }) }
        XCTAssertNotNil(store.slot(named: "text_encoder.text_model.encoder.layers.1.self_attn.out_proj.bias"))
        XCTAssertNotNil(store.slot(named: "text_encoder.text_model.final_layer_norm.weight"))
        let ids: [Int32] = [2, 5, 2, 0, 0, 0, 0, 0, 6, 1, 3, 4], n = 3
        let mem = TestArena()
        defer { mem.free() }
        let out = encoder.forward(tokenIDs: mem.copy(ids), batch: n, store, ws)
        let count = n * config.length * config.width
        let params = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
        assertClose(array(out, count), Naive.clipTextEncoder(params, ids: ids, batch: n, config: config).map(Float.init),
                    "text encoder forward")
        let r = data.normal(count), rd = r.doubles
        store.zeroGrads()
        encoder.backward(mem.copy(r), store, ws)
        for slot in store.slots where !slot.name.hasSuffix("k_proj.bias") {
            GradCheck.check("text encoder d\(slot.name)", analytic: readGrad(store, slot), at: params[slot.name]!, maxCoordinates: 24) {
                var p = params
                p[slot.name] = $0
                return dotD(rd, Naive.clipTextEncoder(p, ids: ids, batch: n, config: config))
            }
        }
        // Causality: a token's state does not depend on later tokens.
        let changed: [Int32] = [2, 5, 3, 0]
        let first = array(out, config.width * 2)
        let again = encoder.forward(tokenIDs: mem.copy(changed), batch: 1, store, ws)
        XCTAssertEqual(array(again, config.width * 2), first, "the first two positions see only themselves and earlier ones")
    }
}
