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
/// Each image is one sgemm on the stored layouts (the transposes are BLAS flags, never copies);
/// images, or for the weight gradient the output features, are split over the threads.
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

    /// x: (B, IN, P)  out: (B, P, OUT), written. Images are split over the workspace's threads.
    public func intoTokens(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, pixels p: Int,
                           _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        ws.profiler.count(flops: 2 * Double(batch * p) * Double(inFeatures * outFeatures))
        let w = SendablePointer(store.parameters(weight)), b = SendablePointer(store.parameters(bias))
        let xs = SendablePointer(x), outs = SendablePointer(out), fin = inFeatures, fout = outFeatures
        parallelChunks(batch, threads: ws.threads, minimumPerThread: imagesPerThread(p)) { images in
            for i in images {
                let o = outs.pointer + i * p * fout
                for row in 0..<p { (o + row * fout).update(from: b.pointer, count: fout) }
                BLAS.sgemm(transA: true, transB: true, m: p, n: fout, k: fin, a: xs.pointer + i * fin * p, lda: p, b: w.pointer,
                           ldb: fin, beta: 1, c: o, ldc: fout)
            }
        }
    }

    /// dOut: (B, P, OUT)  x: the forward's input (B, IN, P)  dx: (B, IN, P), added into (nil: not needed)
    /// dW and the bias's gradient are split over the threads by output feature, dx by image.
    public func intoTokensBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                   batch: Int, pixels p: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        let w = SendablePointer(store.parameters(weight)), dw = SendablePointer(store.gradient(weight))
        let db = SendablePointer(store.gradient(bias)), d = SendablePointer(dOut), xs = SendablePointer(x)
        let fin = inFeatures, fout = outFeatures
        // dW and db: not while only LoRA adapters train (x is then never read).
        if store.trainsWeights {
            parallelChunks(fout, threads: ws.threads, minimumPerThread: max(1, Linear.work / max(1, batch * p * fin))) { outs in
                for i in 0..<batch {
                    let di = d.pointer + i * p * fout
                    // dW[outs] (|outs|, IN) += dOut_i[:, outs]^T (|outs|, P) x_i^T (P, IN)
                    BLAS.sgemm(transA: true, transB: true, m: outs.count, n: fin, k: p, a: di + outs.lowerBound, lda: fout,
                               b: xs.pointer + i * fin * p, ldb: p, beta: 1, c: dw.pointer + outs.lowerBound * fin, ldc: fin)
                    Linear.addColumnSums(di, rows: p, stride: fout, columns: outs, into: db.pointer)
                }
            }
        }
        guard let dx else { return }
        let dxs = SendablePointer(dx)
        parallelChunks(batch, threads: ws.threads, minimumPerThread: imagesPerThread(p)) { images in
            for i in images {
                // dx_i (IN, P) += W^T (IN, OUT) dOut_i^T (OUT, P)
                BLAS.sgemm(transA: true, transB: true, m: fin, n: p, k: fout, a: w.pointer, lda: fin, b: d.pointer + i * p * fout,
                           ldb: fout, beta: 1, c: dxs.pointer + i * fin * p, ldc: p)
            }
        }
    }

    /// x: (B, P, IN)  out: (B, OUT, P), written. Images are split over the workspace's threads.
    public func fromTokens(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, pixels p: Int,
                           _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        ws.profiler.count(flops: 2 * Double(batch * p) * Double(inFeatures * outFeatures))
        let w = SendablePointer(store.parameters(weight)), b = SendablePointer(store.parameters(bias))
        let xs = SendablePointer(x), outs = SendablePointer(out), fin = inFeatures, fout = outFeatures
        parallelChunks(batch, threads: ws.threads, minimumPerThread: imagesPerThread(p)) { images in
            for i in images {
                let o = outs.pointer + i * fout * p
                for c in 0..<fout { (o + c * p).update(repeating: b.pointer[c], count: p) }
                BLAS.sgemm(transB: true, m: fout, n: p, k: fin, a: w.pointer, lda: fin, b: xs.pointer + i * p * fin, ldb: fin,
                           beta: 1, c: o, ldc: p)
            }
        }
    }

    /// dOut: (B, OUT, P)  x: the forward's input (B, P, IN)  dx: (B, P, IN), added into (nil: not needed)
    /// dW and the bias's gradient are split over the threads by output feature, dx by image.
    public func fromTokensBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                   batch: Int, pixels p: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        let w = SendablePointer(store.parameters(weight)), dw = SendablePointer(store.gradient(weight))
        let db = SendablePointer(store.gradient(bias)), d = SendablePointer(dOut), xs = SendablePointer(x)
        let fin = inFeatures, fout = outFeatures
        // dW and db: not while only LoRA adapters train (x is then never read).
        if store.trainsWeights {
            parallelChunks(fout, threads: ws.threads, minimumPerThread: max(1, Linear.work / max(1, batch * p * fin))) { outs in
                for i in 0..<batch {
                    let di = d.pointer + i * fout * p
                    // dW[outs] (|outs|, IN) += dOut_i[outs] (|outs|, P) x_i (P, IN)
                    BLAS.sgemm(m: outs.count, n: fin, k: p, a: di + outs.lowerBound * p, lda: p, b: xs.pointer + i * p * fin, ldb: fin,
                               beta: 1, c: dw.pointer + outs.lowerBound * fin, ldc: fin)
                    for c in outs { db.pointer[c] += Float(Reduce.sum(di + c * p, count: p)) }
                }
            }
        }
        guard let dx else { return }
        let dxs = SendablePointer(dx)
        parallelChunks(batch, threads: ws.threads, minimumPerThread: imagesPerThread(p)) { images in
            for i in images {
                // dx_i (P, IN) += dOut_i^T (P, OUT) W (OUT, IN)
                BLAS.sgemm(transA: true, m: p, n: fin, k: fout, a: d.pointer + i * fout * p, lda: p, b: w.pointer, ldb: fin,
                           beta: 1, c: dxs.pointer + i * p * fin, ldc: fin)
            }
        }
    }

    /// Images a thread's share should hold before the work is split (`Linear.work` multiply-adds).
    func imagesPerThread(_ p: Int) -> Int { max(1, Linear.work / max(1, p * inFeatures * outFeatures)) }
}
