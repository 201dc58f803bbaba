extension Naive {
    /// diffusers' `Transformer2DModel` by its definition, every parameter looked up by its name
    /// under `prefix` in `p` (so a test can perturb any one): GroupNorm (eps 1e-6), the pixels as
    /// tokens through `proj_in`, the `BasicTransformerBlock`s, `proj_out` back to an image, plus x.
    /// x: (B, C, H, W)  context: (B, Lc, Dc)  out: (B, C, H, W)
    @inlinable public static func transformer2D<T: BinaryFloatingPoint>(_ p: [String: [T]], _ prefix: String, _ x: [T], context: [T],
                                                             batch b: Int, channels c: Int, height: Int, width: Int,
                                                             contextTokens lc: Int, contextDimension dc: Int, heads: Int,
                                                             headDimension dh: Int, layers: Int, groups: Int) -> [T] {
        let hw = height * width, inner = heads * dh
        let h = groupNorm(x, gamma: p["\(prefix).norm.weight"]!, beta: p["\(prefix).norm.bias"]!, n: b, c: c, h: height,
                          w: width, groups: groups, eps: 1e-6)
        // NCHW -> (B*HW, C) rows; proj_in's weight is (inner, C[, 1, 1]), the same numbers either way.
        var t = linear(pixelsAsTokens(h, batch: b, channels: c, pixels: hw), p["\(prefix).proj_in.weight"]!,
                       p["\(prefix).proj_in.bias"]!, n: b * hw, inFeatures: c, outFeatures: inner)
        for i in 0..<layers {
            t = basicTransformerBlock(p, "\(prefix).transformer_blocks.\(i)", t, context: context, batch: b, tokens: hw,
                                      dimension: inner, contextTokens: lc, contextDimension: dc, heads: heads, headDimension: dh)
        }
        let o = linear(t, p["\(prefix).proj_out.weight"]!, p["\(prefix).proj_out.bias"]!, n: b * hw, inFeatures: inner,
                       outFeatures: c)
        var out = [T](repeating: 0, count: b * c * hw)
        for i in 0..<b {
            for ch in 0..<c {
                for q in 0..<hw { out[(i * c + ch) * hw + q] = o[(i * hw + q) * c + ch] + x[(i * c + ch) * hw + q] }
            }
        }
        return out
    }

    /// diffusers' `BasicTransformerBlock` (layer norms, self-attention, cross-attention, GEGLU
    /// feed-forward, three residuals) by its definition. x: (B, L, D)  context: (B, Lc, Dc)
    @inlinable public static func basicTransformerBlock<T: BinaryFloatingPoint>(_ p: [String: [T]], _ prefix: String, _ x: [T],
                                                                     context: [T], batch b: Int, tokens l: Int, dimension d: Int,
                                                                     contextTokens lc: Int, contextDimension dc: Int,
                                                                     heads: Int, headDimension dh: Int) -> [T] {
        func norm(_ name: String, _ v: [T]) -> [T] {
            layerNorm(v, gamma: p["\(prefix).\(name).weight"]!, beta: p["\(prefix).\(name).bias"]!, rows: b * l, dimension: d)
        }
        func attention(_ name: String, _ q: [T], _ kv: [T], keys: Int, kvDimension: Int) -> [T] {
            let inner = heads * dh
            func proj(_ tensor: String, _ input: [T], rows: Int, fin: Int, fout: Int) -> [T] {
                linear(input, p["\(prefix).\(name).\(tensor).weight"]!, p["\(prefix).\(name).\(tensor).bias"] ?? [],
                       n: rows, inFeatures: fin, outFeatures: fout)
            }
            let a = Naive.attention(q: proj("to_q", q, rows: b * l, fin: d, fout: inner),
                                    k: proj("to_k", kv, rows: b * keys, fin: kvDimension, fout: inner),
                                    v: proj("to_v", kv, rows: b * keys, fin: kvDimension, fout: inner),
                                    batch: b, queries: l, keys: keys, heads: heads, headDimension: dh)
            return proj("to_out.0", a, rows: b * l, fin: inner, fout: d)
        }
        let h1 = zip(x, attention("attn1", norm("norm1", x), norm("norm1", x), keys: l, kvDimension: d)).map { $0 + $1 }
        let h2 = zip(h1, attention("attn2", norm("norm2", h1), context, keys: lc, kvDimension: dc)).map { $0 + $1 }
        let inner = 4 * d
        let projected = linear(norm("norm3", h2), p["\(prefix).ff.net.0.proj.weight"]!, p["\(prefix).ff.net.0.proj.bias"]!,
                               n: b * l, inFeatures: d, outFeatures: 2 * inner)
        let f = linear(geglu(projected, rows: b * l, inner: inner), p["\(prefix).ff.net.2.weight"]!,
                       p["\(prefix).ff.net.2.bias"]!, n: b * l, inFeatures: inner, outFeatures: d)
        return zip(h2, f).map { $0 + $1 }
    }

    /// (B, C, P) -> (B*P, C)
    @inlinable public static func pixelsAsTokens<T>(_ x: [T], batch b: Int, channels c: Int, pixels p: Int) -> [T] {
        var out = x
        for i in 0..<b {
            for ch in 0..<c {
                for q in 0..<p { out[(i * p + q) * c + ch] = x[(i * c + ch) * p + q] }
            }
        }
        return out
    }
}
