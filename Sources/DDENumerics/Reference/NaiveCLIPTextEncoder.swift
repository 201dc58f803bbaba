extension Naive {
    /// transformers' `CLIPTextModel` by its definition (pre-norm layers, causal self-attention with
    /// CLIP's biased projections, quick-GELU MLP, final layer norm), parameters by their names
    /// under `CLIPTextEncoder.prefix` in `p`. ids: (N, L)  out: (N, L, D)
    @inlinable public static func clipTextEncoder<T: BinaryFloatingPoint>(_ p: [String: [T]], ids: [Int32], batch n: Int,
                                                               config: TextEncoderConfig) -> [T] {
        let prefix = CLIPTextEncoder.prefix, l = config.length, d = config.width, rows = n * l
        let dh = d / config.heads
        let table = p["\(prefix).embeddings.token_embedding.weight"]!, positions = p["\(prefix).embeddings.position_embedding.weight"]!
        var h = [T](repeating: 0, count: rows * d)
        for r in 0..<rows {
            for c in 0..<d { h[r * d + c] = table[Int(ids[r]) * d + c] + positions[(r % l) * d + c] }
        }
        func norm(_ name: String, _ v: [T]) -> [T] {
            layerNorm(v, gamma: p["\(name).weight"]!, beta: p["\(name).bias"]!, rows: rows, dimension: d)
        }
        func dense(_ name: String, _ v: [T], _ fin: Int, _ fout: Int) -> [T] {
            linear(v, p["\(name).weight"]!, p["\(name).bias"]!, n: rows, inFeatures: fin, outFeatures: fout)
        }
        for i in 0..<config.layers {
            let layer = "\(prefix).encoder.layers.\(i)"
            let x = norm("\(layer).layer_norm1", h)
            let a = attention(q: dense("\(layer).self_attn.q_proj", x, d, d), k: dense("\(layer).self_attn.k_proj", x, d, d),
                              v: dense("\(layer).self_attn.v_proj", x, d, d), batch: n, queries: l, keys: l,
                              heads: config.heads, headDimension: dh, causal: true)
            h = zip(h, dense("\(layer).self_attn.out_proj", a, d, d)).map { $0 + $1 }
            let m = quickGELU(dense("\(layer).mlp.fc1", norm("\(layer).layer_norm2", h), d, config.intermediate))
            h = zip(h, dense("\(layer).mlp.fc2", m, config.intermediate, d)).map { $0 + $1 }
        }
        return norm("\(prefix).final_layer_norm", h)
    }
}
