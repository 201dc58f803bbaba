// Layers: the network's building blocks, each a forward and a backward over raw pointers in
// PyTorch's layout: `Conv2d` (im2col + GEMM, or Winograd), `Linear`, `GroupNorm` (optionally fused
// with SiLU), `LayerNorm`, `SiLU` and `QuickGELU` (both `PointwiseActivation`s), `GELU` and the
// `GEGLU` gate, `ScaledDotProductAttention` and `Attention` (with its projections), `Embedding`,
// `TimestepEmbedding`, `Upsample2x`, `ChannelConcat`, `GlobalAveragePool`, `PerImageMSE` and
// `SoftmaxCrossEntropy`. Layers with weights register them in a `ParameterStore` (Optim) and add
// their gradients into it; they use Ops for the arithmetic, `Workspace` (Tensor) for scratch and
// Profile for timing. Each has a naive twin in Reference.

/// A 2-D convolution by im2col + GEMM, PyTorch semantics and layout: `weight` is
/// `(OC, C, K, K)`, `bias` is `(OC)`, zero padding, square kernel and stride. 3x3 stride-1
/// convolutions with enough channels take the Winograd path instead (`Conv2d+Winograd.swift`).
///
/// Threading: the batch is split into one contiguous share of images per thread; each thread
/// builds the column matrix of a chunk of its images and calls single-threaded sgemm on it
/// (see `Parallel.swift`; the workspace gives the thread count). Weight gradients go to per-thread partials, summed in thread order, so the
/// result depends on the thread count but not on timing.
public struct Conv2d: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot

    public init(_ store: ParameterStore, _ name: String, inChannels: Int, outChannels: Int,
                kernel: Int, stride: Int = 1, padding: Int? = nil) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding ?? kernel / 2
        weight = store.add("\(name).weight", [outChannels, inChannels, kernel, kernel])
        bias = store.add("\(name).bias", [outChannels])
    }

    /// PyTorch's default: uniform in `±1/sqrt(C*K*K)` for weight and bias.
    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        rng.fillUniform(store.parameters(weight), count: weight.count, lo: -bound, hi: bound)
        rng.fillUniform(store.parameters(bias), count: bias.count, lo: -bound, hi: bound)
    }

    public func geometry(height: Int, width: Int) -> ConvGeometry {
        ConvGeometry(channels: inChannels, height: height, width: width,
                     kernel: kernel, stride: stride, padding: padding)
    }

    /// Multiply-adds of the forward pass, times two: the FLOP count benchmarks quote.
    public func forwardFLOPs(n: Int, height: Int, width: Int) -> Double {
        let g = geometry(height: height, width: width)
        return 2 * Double(outChannels) * Double(g.rows) * Double(n * g.outPixels)
    }

    /// Threads to use for `n` images: all of them unless the work is too small to pay for it.
    func threads(_ n: Int, _ g: ConvGeometry, _ ws: Workspace) -> Int {
        let work = Double(outChannels) * Double(g.rows) * Double(n * g.outPixels)
        return work < 1e6 ? 1 : min(ws.threads, n)
    }

    /// Images per GEMM: as many as fit in one thread's column budget.
    func chunk(_ g: ConvGeometry, _ n: Int, _ ws: Workspace) -> Int {
        max(1, min(n, ws.columnBudget / max(1, g.rows * g.outPixels)))
    }

    /// x: (N, C, H, W)  w: (OC, C, K, K)  out: (N, OC, H', W')
    /// `transformedInput`: where the Winograd path may keep the transformed input for the
    /// backward pass (training; ignored on the im2col path).
    public func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                        n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace,
                        transformedInput: FloatBuffer? = nil) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.convForward, profile) }
        ws.profiler.count(flops: forwardFLOPs(n: n, height: height, width: width))
        if let variant = winogradVariant(height: height, width: width, ws) {
            return winogradForward(variant, x, out, n: n, height: height, width: width, store, ws, transformedInput: transformedInput)
        }
        let g = geometry(height: height, width: width)
        let threads = threads(n, g, ws), share = (n + threads - 1) / threads
        let xs = SendablePointer(x), outs = SendablePointer(out)
        let w = SendablePointer(store.parameters(weight)), b = SendablePointer(store.parameters(bias))
        parallelFor(threads) { t in
            let lo = t * share, hi = min(n, lo + share)
            if lo < hi { forwardImages(xs.pointer, outs.pointer, lo..<hi, g, w.pointer, b.pointer, ws, thread: t) }
        }
    }

    private func forwardImages(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ images: Range<Int>,
                               _ g: ConvGeometry, _ w: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                               _ ws: Workspace, thread: Int) {
        let hw = g.outPixels, nb = chunk(g, images.count, ws)
        let tmp = ws.gemm[thread].reserve(outChannels * nb * hw)
        let col = g.isPointwise ? nil : ws.col[thread].reserve(g.rows * nb * hw)
        var n0 = images.lowerBound
        while n0 < images.upperBound {
            let m = min(nb, images.upperBound - n0)
            let xChunk = x + n0 * inChannels * g.inPixels
            if let col {
                ws.profiler.measure(.convTransforms, thread: thread) { Im2col.forwardSerial(xChunk, col, images: m, g) }
                // tmp (OC, m*HW) = W (OC, rows) · col (rows, m*HW)
                ws.profiler.measure(.convGEMM, thread: thread) {
                    BLAS.sgemm(m: outChannels, n: m * hw, k: g.rows, a: w, lda: g.rows, b: col, ldb: m * hw, c: tmp, ldc: m * hw)
                }
                // out[i, oc, :] = tmp[oc, i*HW ..< (i+1)*HW] + b[oc]
                for oc in 0..<outChannels {
                    let bias = b[oc]
                    for i in 0..<m {
                        let src = tmp + oc * m * hw + i * hw, dst = out + ((n0 + i) * outChannels + oc) * hw
                        for p in 0..<hw { dst[p] = src[p] + bias }
                    }
                }
            } else {
                // 1x1: each image's (C, HW) block is already its column matrix.
                for i in 0..<m {
                    let o = out + (n0 + i) * outChannels * hw
                    for oc in 0..<outChannels { (o + oc * hw).update(repeating: b[oc], count: hw) }
                    BLAS.sgemm(m: outChannels, n: hw, k: inChannels, a: w, lda: inChannels,
                               b: xChunk + i * inChannels * hw, ldb: hw, beta: 1, c: o, ldc: hw)
                }
            }
            n0 += m
        }
    }

    /// dOut: (N, OC, H', W')  x: (N, C, H, W)  dx: (N, C, H, W); adds into dx, dW, db.
    /// `transformedInput`: the buffer the last forward on these inputs kept V in, if any.
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace,
                         transformedInput: FloatBuffer? = nil) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.convBackward, profile) }
        if let variant = winogradVariant(height: height, width: width, ws) {
            return winogradBackward(variant, dOut: dOut, x: x, dx: dx, n: n, height: height, width: width, store, ws,
                                    transformedInput: transformedInput)
        }
        let g = geometry(height: height, width: width)
        let threads = threads(n, g, ws), share = (n + threads - 1) / threads
        let paramCount = weight.count + bias.count
        // Thread 0 adds into the store; the others into zeroed partials, added after the join.
        for t in 1..<max(threads, 1) { ws.partial[t].reserve(paramCount); ws.partial[t].zero(paramCount) }
        let ds = SendablePointer(dOut), xs = SendablePointer(x), dxs = dx.map { SendablePointer($0) }
        let w = SendablePointer(store.parameters(weight))
        let dw0 = SendablePointer(store.gradient(weight)), db0 = SendablePointer(store.gradient(bias))
        parallelFor(threads) { t in
            let lo = t * share, hi = min(n, lo + share)
            guard lo < hi else { return }
            let dw = t == 0 ? dw0.pointer : ws.partial[t].pointer
            let db = t == 0 ? db0.pointer : ws.partial[t].pointer + weight.count
            backwardImages(ds.pointer, xs.pointer, dxs?.pointer, lo..<hi, g, w.pointer, dw, db, ws, thread: t,
                           weights: store.trainsWeights)
        }
        guard store.trainsWeights else { return }
        for t in 1..<max(threads, 1) {
            let p = ws.partial[t].pointer, dw = dw0.pointer, db = db0.pointer
            for i in 0..<weight.count { dw[i] += p[i] }
            for i in 0..<bias.count { db[i] += p[weight.count + i] }
        }
    }

    private func backwardImages(_ dOut: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                                _ dx: UnsafeMutablePointer<Float>?, _ images: Range<Int>, _ g: ConvGeometry,
                                _ w: UnsafeMutablePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                                _ db: UnsafeMutablePointer<Float>, _ ws: Workspace, thread: Int, weights: Bool) {
        let hw = g.outPixels, nb = chunk(g, images.count, ws)
        let gathered = ws.gemm[thread].reserve(outChannels * nb * hw)
        let col = ws.col[thread].reserve(g.rows * nb * hw)
        var n0 = images.lowerBound
        while n0 < images.upperBound {
            let m = min(nb, images.upperBound - n0)
            let xChunk = x + n0 * inChannels * g.inPixels
            let dOutChunk = dOut + n0 * outChannels * hw
            // gathered (OC, m*HW) <- dOut (m, OC, HW); db += row sums.
            for oc in 0..<outChannels {
                var sum: Float = 0
                for i in 0..<m {
                    let src = dOutChunk + (i * outChannels + oc) * hw, dst = gathered + oc * m * hw + i * hw
                    for p in 0..<hw { dst[p] = src[p]; sum += src[p] }
                }
                db[oc] += sum
            }
            // dW (OC, rows) += gathered · col^T (not while only LoRA adapters train)
            if weights && g.isPointwise {
                for i in 0..<m {
                    BLAS.sgemm(transB: true, m: outChannels, n: inChannels, k: hw,
                               a: dOutChunk + i * outChannels * hw, lda: hw,
                               b: xChunk + i * inChannels * hw, ldb: hw, beta: 1, c: dw, ldc: inChannels)
                }
            } else if weights {
                ws.profiler.measure(.convTransforms, thread: thread) { Im2col.forwardSerial(xChunk, col, images: m, g) }
                ws.profiler.measure(.convGEMM, thread: thread) {
                    BLAS.sgemm(transB: true, m: outChannels, n: g.rows, k: m * hw,
                               a: gathered, lda: m * hw, b: col, ldb: m * hw, beta: 1, c: dw, ldc: g.rows)
                }
            }
            if let dx {
                let dxChunk = dx + n0 * inChannels * g.inPixels
                if g.isPointwise {
                    // dx_i (C, HW) += W^T (C, OC) · dOut_i (OC, HW)
                    for i in 0..<m {
                        BLAS.sgemm(transA: true, m: inChannels, n: hw, k: outChannels,
                                   a: w, lda: inChannels, b: dOutChunk + i * outChannels * hw, ldb: hw,
                                   beta: 1, c: dxChunk + i * inChannels * hw, ldc: hw)
                    }
                } else {
                    // dcol (rows, m*HW) = W^T · gathered, then fold back into dx.
                    ws.profiler.measure(.convGEMM, thread: thread) {
                        BLAS.sgemm(transA: true, m: g.rows, n: m * hw, k: outChannels,
                                   a: w, lda: g.rows, b: gathered, ldb: m * hw, c: col, ldc: m * hw)
                    }
                    ws.profiler.measure(.convTransforms, thread: thread) { Im2col.backwardSerial(col, dxChunk, images: m, g) }
                }
            }
            n0 += m
        }
    }
}
