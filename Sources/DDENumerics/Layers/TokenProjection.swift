/// A per-pixel linear map between an NCHW activation and a sequence of tokens, the `proj_in` and
/// `proj_out` of diffusers' `Transformer2DModel`: a 1x1 convolution (`weight` `(OUT, IN, 1, 1)`,
/// `use_linear_projection = False`, SD 1.x) or a linear layer on the tokens (`weight` `(OUT, IN)`,
/// `use_linear_projection = True`, SD 2.x and SDXL). Both compute the same map; diffusers applies
/// the conv before and the linear after flattening the pixels into tokens, which changes nothing
/// but the weight's shape.
///
///     into tokens:  x (B, IN, H*W)  ->  out (B, H*W, OUT),  out[b, p, o] = Σ_i w[o, i] x[b, i, p] + bias[o]
///     from tokens:  x (B, H*W, IN)  ->  out (B, OUT, H*W),  out[b, o, p] = Σ_i w[o, i] x[b, p, i] + bias[o]
///
/// Each image is one sgemm on the stored layouts (the transposes are BLAS flags, never copies).
public struct TokenProjection: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot

    public init(_ store: ParameterStore, _ name: String, inFeatures: Int, outFeatures: Int, asConvolution: Bool) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = store.add("\(name).weight", asConvolution ? [outFeatures, inFeatures, 1, 1] : [outFeatures, inFeatures])
        bias = store.add("\(name).bias", [outFeatures])
    }

    /// PyTorch's default for both `nn.Conv2d(IN, OUT, 1)` and `nn.Linear(IN, OUT)`: uniform in ±1/sqrt(IN).
    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        let bound = 1 / Float(inFeatures).squareRoot()
        rng.fillUniform(store.parameters(weight), count: weight.count, lo: -bound, hi: bound)
        rng.fillUniform(store.parameters(bias), count: bias.count, lo: -bound, hi: bound)
    }

    /// x: (B, IN, P)  out: (B, P, OUT), written
    public func intoTokens(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, pixels p: Int,
                           _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        ws.profiler.count(flops: 2 * Double(batch * p) * Double(inFeatures * outFeatures))
        let w = store.parameters(weight), b = store.parameters(bias), fin = inFeatures, fout = outFeatures
        for i in 0..<batch {
            let o = out + i * p * fout
            for row in 0..<p { (o + row * fout).update(from: b, count: fout) }
            BLAS.sgemm(transA: true, transB: true, m: p, n: fout, k: fin, a: x + i * fin * p, lda: p, b: w, ldb: fin,
                       beta: 1, c: o, ldc: fout)
        }
    }

    /// dOut: (B, P, OUT)  x: the forward's input (B, IN, P)  dx: (B, IN, P), added into (nil: not needed)
    public func intoTokensBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                   batch: Int, pixels p: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        let w = store.parameters(weight), dw = store.gradient(weight), db = store.gradient(bias)
        let fin = inFeatures, fout = outFeatures
        for i in 0..<batch {
            let d = dOut + i * p * fout, xi = x + i * fin * p
            // dW (OUT, IN) += dOut_i^T (OUT, P) x_i^T (P, IN)
            BLAS.sgemm(transA: true, transB: true, m: fout, n: fin, k: p, a: d, lda: fout, b: xi, ldb: p,
                       beta: 1, c: dw, ldc: fin)
            for row in 0..<p { Self.addRow(d + row * fout, into: db, count: fout) }
            // dx_i (IN, P) += W^T (IN, OUT) dOut_i^T (OUT, P)
            if let dx {
                BLAS.sgemm(transA: true, transB: true, m: fin, n: p, k: fout, a: w, lda: fin, b: d, ldb: fout,
                           beta: 1, c: dx + i * fin * p, ldc: p)
            }
        }
    }

    /// x: (B, P, IN)  out: (B, OUT, P), written
    public func fromTokens(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, pixels p: Int,
                           _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        ws.profiler.count(flops: 2 * Double(batch * p) * Double(inFeatures * outFeatures))
        let w = store.parameters(weight), b = store.parameters(bias), fin = inFeatures, fout = outFeatures
        for i in 0..<batch {
            let o = out + i * fout * p
            for c in 0..<fout { (o + c * p).update(repeating: b[c], count: p) }
            BLAS.sgemm(transB: true, m: fout, n: p, k: fin, a: w, lda: fin, b: x + i * p * fin, ldb: fin,
                       beta: 1, c: o, ldc: p)
        }
    }

    /// dOut: (B, OUT, P)  x: the forward's input (B, P, IN)  dx: (B, P, IN), added into (nil: not needed)
    public func fromTokensBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                   batch: Int, pixels p: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        let w = store.parameters(weight), dw = store.gradient(weight), db = store.gradient(bias)
        let fin = inFeatures, fout = outFeatures
        for i in 0..<batch {
            let d = dOut + i * fout * p, xi = x + i * p * fin
            // dW (OUT, IN) += dOut_i (OUT, P) x_i (P, IN)
            BLAS.sgemm(m: fout, n: fin, k: p, a: d, lda: p, b: xi, ldb: fin, beta: 1, c: dw, ldc: fin)
            for c in 0..<fout { db[c] += Float(Reduce.sum(d + c * p, count: p)) }
            // dx_i (P, IN) += dOut_i^T (P, OUT) W (OUT, IN)
            if let dx {
                BLAS.sgemm(transA: true, m: p, n: fin, k: fout, a: d, lda: p, b: w, ldb: fin, beta: 1, c: dx + i * p * fin, ldc: fin)
            }
        }
    }

    @inline(__always)
    static func addRow(_ row: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { y.store8(y.load8(i) + row.load8(i), i); i += 8 }
        while i < count { y[i] += row[i]; i += 1 }
    }
}
