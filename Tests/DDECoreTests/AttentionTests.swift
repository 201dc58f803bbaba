import XCTest
import DDECore

final class AttentionTests: XCTestCase {
    /// The kernel against its naive twin, self and cross shapes, causal and not, and its three
    /// input gradients against finite differences of the twin in Double.
    func testScaledDotProductAttentionMatchesNaiveAndFiniteDifferences() {
        var data = TestData(seed: 31)
        let cases: [(b: Int, lq: Int, lk: Int, h: Int, dh: Int, causal: Bool, threads: Int)] = [
            (2, 5, 5, 2, 3, false, 1), (3, 6, 4, 2, 4, false, 2), (2, 7, 7, 3, 2, true, 2), (1, 1, 9, 1, 8, false, 1),
            (2, 20, 20, 2, 8, false, 2),
        ]
        for c in cases {
            let ws = Workspace(threads: c.threads)
            let kernel = ScaledDotProductAttention(heads: c.h, headDimension: c.dh, causal: c.causal)
            let width = c.h * c.dh
            let q = data.normal(c.b * c.lq * width), k = data.normal(c.b * c.lk * width), v = data.normal(c.b * c.lk * width)
            let mem = TestArena()
            defer { mem.free() }
            let out = mem.filled(c.b * c.lq * width), cache = AttentionCache()
            let qp = mem.copy(q), kp = mem.copy(k), vp = mem.copy(v)
            kernel.forward(q: qp, k: kp, v: vp, out, batch: c.b, queries: c.lq, keys: c.lk, cache: cache, ws)
            let what = "attention \(c)"
            assertClose(array(out, q.count), Naive.attention(q: q, k: k, v: v, batch: c.b, queries: c.lq, keys: c.lk,
                                                             heads: c.h, headDimension: c.dh, causal: c.causal), what)
            let r = data.normal(q.count)
            let dq = mem.filled(q.count, 1), dk = mem.filled(k.count, -1), dv = mem.filled(v.count, 2)
            kernel.backward(dOut: mem.copy(r), q: qp, k: kp, v: vp, dq: dq, dk: dk, dv: dv,
                            batch: c.b, queries: c.lq, keys: c.lk, cache: cache, ws)
            let rd = r.doubles, qd = q.doubles, kd = k.doubles, vd = v.doubles
            func loss(_ q: [Double], _ k: [Double], _ v: [Double]) -> Double {
                dotD(rd, Naive.attention(q: q, k: k, v: v, batch: c.b, queries: c.lq, keys: c.lk, heads: c.h,
                                         headDimension: c.dh, causal: c.causal))
            }
            GradCheck.check("\(what) dq", analytic: array(dq, q.count).map { $0 - 1 }, at: qd) { loss($0, kd, vd) }
            GradCheck.check("\(what) dk", analytic: array(dk, k.count).map { $0 + 1 }, at: kd) { loss(qd, $0, vd) }
            GradCheck.check("\(what) dv", analytic: array(dv, v.count).map { $0 - 2 }, at: vd) { loss(qd, kd, $0) }
        }
    }

    /// Large scores must not overflow the softmax (it subtracts the row maximum), and a causal
    /// row's masked keys get exactly zero weight and zero gradient.
    func testSoftmaxIsStableAndTheCausalMaskIsExact() {
        let ws = Workspace()
        let kernel = ScaledDotProductAttention(heads: 1, headDimension: 2, causal: true)
        let mem = TestArena()
        defer { mem.free() }
        // Scores of several hundred: exp would overflow Float without the shift.
        // Query 1 would weigh key 2 most (score 2000/sqrt 2) if the mask let it.
        let q: [Float] = [30, 30, 20, 0, 25, 25], k: [Float] = [30, 30, 40, 40, 100, 0]
        let v: [Float] = [1, 2, 3, 4, 1e6, 1e6]
        let out = mem.filled(6), cache = AttentionCache()
        kernel.forward(q: mem.copy(q), k: mem.copy(k), v: mem.copy(v), out, batch: 1, queries: 3, keys: 3, cache: cache, ws)
        let got = array(out, 6)
        XCTAssertTrue(got.allSatisfy(\.isFinite), "\(got)")
        XCTAssertEqual(Array(got[0..<2]), [1, 2], "the first query sees only the first key")
        XCTAssertLessThan(abs(got[2] - 3) + abs(got[3] - 4), 1e-3, "the second query sees keys 0 and 1 only: \(got)")
        let dv = mem.filled(6), dq = mem.filled(6), dk = mem.filled(6)
        kernel.backward(dOut: mem.copy([1, 1, 1, 1, 0, 0]), q: mem.copy(q), k: mem.copy(k), v: mem.copy(v), dq: dq, dk: dk, dv: dv,
                        batch: 1, queries: 3, keys: 3, cache: cache, ws)
        XCTAssertEqual(Array(array(dv, 6)[4..<6]), [0, 0], "the last key is seen only by the last query, whose dOut is 0")
    }

    func testResultsDoNotDependOnTheThreadCount() {
        var data = TestData(seed: 32)
        let b = 3, l = 17, lk = 5, h = 4, dh = 8, width = h * dh
        let q = data.normal(b * l * width), k = data.normal(b * lk * width), v = data.normal(b * lk * width)
        let r = data.normal(q.count)
        var results: [[Float]] = []
        for threads in [1, 2] {
            let ws = Workspace(threads: threads), kernel = ScaledDotProductAttention(heads: h, headDimension: dh)
            let mem = TestArena()
            defer { mem.free() }
            let out = mem.filled(q.count), cache = AttentionCache()
            let dq = mem.filled(q.count), dk = mem.filled(k.count), dv = mem.filled(v.count)
            kernel.forward(q: mem.copy(q), k: mem.copy(k), v: mem.copy(v), out, batch: b, queries: l, keys: lk, cache: cache, ws)
            kernel.backward(dOut: mem.copy(r), q: mem.copy(q), k: mem.copy(k), v: mem.copy(v), dq: dq, dk: dk, dv: dv,
                            batch: b, queries: l, keys: lk, cache: cache, ws)
            results.append(array(out, q.count) + array(dq, q.count) + array(dk, k.count) + array(dv, v.count))
        }
        XCTAssertEqual(results[0], results[1])
    }

    /// The whole layer (projections, heads, output projection) against a naive composition, and
    /// every parameter's and both inputs' gradients by finite differences; diffusers' naming
    /// (no q/k/v bias) for cross-attention, CLIP's (biases) for causal self-attention.
    func testAttentionLayerGradients() {
        var data = TestData(seed: 33)
        for (cross, naming, causal) in [(true, Attention.Naming.diffusers, false), (false, Attention.Naming.clip, true)] {
            let ws = Workspace(threads: 2), store = ParameterStore()
            let b = 2, lq = 6, lk = cross ? 4 : 6, dq = 8, dc = cross ? 5 : 8, h = 2, dh = 3
            let layer = Attention(store, "attn", queryDimension: dq, contextDimension: cross ? dc : nil,
                                  heads: h, headDimension: dh, causal: causal, naming: naming)
            store.seal()
            var rng = RandomStream(seed: 5, stream: 1)
            layer.initialize(store, &rng)
            XCTAssertEqual(store.slots.map(\.name).sorted(), naming.projectionBias
                ? ["attn.k_proj.bias", "attn.k_proj.weight", "attn.out_proj.bias", "attn.out_proj.weight", "attn.q_proj.bias",
                   "attn.q_proj.weight", "attn.v_proj.bias", "attn.v_proj.weight"]
                : ["attn.to_k.weight", "attn.to_out.0.bias", "attn.to_out.0.weight", "attn.to_q.weight", "attn.to_v.weight"])
            let x = data.normal(b * lq * dq), ctx = data.normal(b * lk * dc), r = data.normal(b * lq * dq)
            let mem = TestArena()
            defer { mem.free() }
            let xp = mem.copy(x), cp = mem.copy(ctx), out = mem.filled(x.count)
            layer.forward(xp, context: cross ? cp : nil, out, batch: b, queries: lq, keys: lk, store, ws)
            let dx = mem.filled(x.count), dctx = mem.filled(ctx.count)
            store.zeroGrads()
            layer.backward(dOut: mem.copy(r), x: xp, context: cross ? cp : nil, dx: dx, dContext: cross ? dctx : nil, store, ws)

            // The naive composition in Double, parameters by name.
            let params = Dictionary(uniqueKeysWithValues: store.slots.map { ($0.name, read(store, $0).doubles) })
            func naive(_ p: [String: [Double]], _ x: [Double], _ c: [Double]) -> [Double] {
                func proj(_ name: String, _ input: [Double], rows: Int, fin: Int, fout: Int) -> [Double] {
                    Naive.linear(input, p["attn.\(name).weight"]!, p["attn.\(name).bias"] ?? [], n: rows, inFeatures: fin, outFeatures: fout)
                }
                let source = cross ? c : x, rowsK = b * lk
                let q = proj(naming.query, x, rows: b * lq, fin: dq, fout: h * dh)
                let k = proj(naming.key, source, rows: rowsK, fin: dc, fout: h * dh)
                let v = proj(naming.value, source, rows: rowsK, fin: dc, fout: h * dh)
                let a = Naive.attention(q: q, k: k, v: v, batch: b, queries: lq, keys: lk, heads: h, headDimension: dh, causal: causal)
                return proj(naming.output, a, rows: b * lq, fin: h * dh, fout: dq)
            }
            assertClose(array(out, x.count), naive(params, x.doubles, ctx.doubles).map(Float.init), "attention layer forward")
            let rd = r.doubles
            GradCheck.check("attention layer dx", analytic: array(dx, x.count), at: x.doubles) { dotD(rd, naive(params, $0, ctx.doubles)) }
            if cross {
                GradCheck.check("attention layer dcontext", analytic: array(dctx, ctx.count), at: ctx.doubles) {
                    dotD(rd, naive(params, x.doubles, $0))
                }
            }
            for slot in store.slots {
                if slot.name.hasSuffix("k_proj.bias") {
                    // Adding a vector to every key adds the same q.b to all of a query's scores,
                    // which the softmax cancels: the exact gradient is zero.
                    let scale = readGrad(store, store.slot(named: "attn.q_proj.bias")!).map { abs($0) }.max()!
                    XCTAssertLessThan(readGrad(store, slot).map { abs($0) }.max()!, 1e-5 * scale, "the key bias's gradient is zero")
                    continue
                }
                GradCheck.check("attention layer d\(slot.name)", analytic: readGrad(store, slot), at: params[slot.name]!) {
                    var p = params
                    p[slot.name] = $0
                    return dotD(rd, naive(p, x.doubles, ctx.doubles))
                }
            }
        }
    }
}
