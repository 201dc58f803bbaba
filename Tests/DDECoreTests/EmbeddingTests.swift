import XCTest
import DDECore

final class EmbeddingTests: XCTestCase {
    func testForwardGathersRowsAndBackwardScatterAdds() {
        var data = TestData(seed: 51)
        for (v, d, n) in [(7, 5, 12), (1, 1, 3), (50, 16, 40)] {
            let store = ParameterStore()
            let layer = Embedding(store, "tok", vocabularySize: v, dimension: d)
            store.seal()
            let table = data.normal(v * d)
            load(store, layer.weight, table)
            var ids = (0..<n).map { _ in data.int(0, v - 1) }
            ids[n - 1] = ids[0]   // at least one repeated id
            let ids32 = ids.map(Int32.init)
            let mem = TestArena()
            defer { mem.free() }

            let out = mem.filled(n * d), out32 = mem.filled(n * d)
            layer.forward(mem.copy(ids), out, n: n, store)
            layer.forward(mem.copy(ids32), out32, n: n, store)
            XCTAssertEqual(array(out, n * d), Naive.embedding(ids, table: table, dimension: d))
            XCTAssertEqual(array(out32, n * d), array(out, n * d))

            let r = data.normal(n * d), rd = r.doubles
            for useInt32 in [false, true] {
                store.grads.pointer.update(repeating: 0.5, count: store.count)
                if useInt32 {
                    layer.backward(dOut: mem.copy(r), ids: mem.copy(ids32), n: n, store)
                } else {
                    layer.backward(dOut: mem.copy(r), ids: mem.copy(ids), n: n, store)
                }
                GradCheck.check("embedding dw \(v),\(d),\(n) int32 \(useInt32)",
                                analytic: readGrad(store, layer.weight).map { $0 - 0.5 }, at: table.doubles) {
                    dotD(rd, Naive.embedding(ids, table: $0, dimension: d))
                }
            }
        }
    }

    func testInitializeIsStandardNormal() {
        let store = ParameterStore()
        let layer = Embedding(store, "tok", vocabularySize: 1000, dimension: 64)
        store.seal()
        var rng = RandomStream(seed: 7, stream: 1)
        layer.initialize(store, &rng)
        let w = read(store, layer.weight).map(Double.init)
        let mean = w.reduce(0, +) / Double(w.count)
        let variance = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(w.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.03)
        XCTAssertEqual(store.slot(named: "tok.weight")?.shape, [1000, 64])
    }
}
