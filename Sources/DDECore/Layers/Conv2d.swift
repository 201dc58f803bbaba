/// A 2-D convolution by im2col + one GEMM per chunk of images, PyTorch semantics and layout:
/// `weight` is `(OC, C, K, K)`, `bias` is `(OC)`, zero padding, square kernel and stride.
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

    /// Images per GEMM: as many as fit in the workspace's column budget.
    func chunk(_ g: ConvGeometry, _ n: Int, _ ws: Workspace) -> Int {
        max(1, min(n, ws.columnBudget / max(1, g.rows * g.outPixels)))
    }

    /// Multiply-adds of the forward pass, times two: the FLOP count benchmarks quote.
    public func forwardFLOPs(n: Int, height: Int, width: Int) -> Double {
        let g = geometry(height: height, width: width)
        return 2 * Double(outChannels) * Double(g.rows) * Double(n * g.outPixels)
    }

    /// x: (N, C, H, W)  w: (OC, C, K, K)  out: (N, OC, H', W')
    public func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                        n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = Profiler.start()
        defer { Profiler.stop(.convForward, profile) }
        let g = geometry(height: height, width: width)
        let hw = g.outPixels, nb = chunk(g, n, ws)
        let w = store.parameters(weight), b = store.parameters(bias)
        let tmp = ws.gemm.reserve(outChannels * nb * hw)
        let col = g.isPointwise ? nil : ws.col.reserve(g.rows * nb * hw)
        var n0 = 0
        while n0 < n {
            let m = min(nb, n - n0)
            let xChunk = x + n0 * inChannels * g.inPixels
            if let col {
                Im2col.forward(xChunk, col, images: m, g)
                // tmp (OC, m*HW) = W (OC, rows) · col (rows, m*HW)
                BLAS.sgemm(m: outChannels, n: m * hw, k: g.rows, a: w, lda: g.rows,
                           b: col, ldb: m * hw, c: tmp, ldc: m * hw)
                scatterAddBias(tmp, out + n0 * outChannels * hw, b, images: m, pixels: hw)
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
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = Profiler.start()
        defer { Profiler.stop(.convBackward, profile) }
        let g = geometry(height: height, width: width)
        let hw = g.outPixels, nb = chunk(g, n, ws)
        let w = store.parameters(weight), dw = store.gradient(weight), db = store.gradient(bias)
        let gathered = ws.gemm.reserve(outChannels * nb * hw)
        let col = ws.col.reserve(g.rows * nb * hw)
        var n0 = 0
        while n0 < n {
            let m = min(nb, n - n0)
            let xChunk = x + n0 * inChannels * g.inPixels
            let dOutChunk = dOut + n0 * outChannels * hw
            // gathered (OC, m*HW) <- dOut (m, OC, HW); db += row sums.
            gatherRows(dOutChunk, gathered, db, images: m, pixels: hw)
            // dW (OC, rows) += gathered · col^T
            if g.isPointwise {
                for i in 0..<m {
                    BLAS.sgemm(transB: true, m: outChannels, n: inChannels, k: hw,
                               a: dOutChunk + i * outChannels * hw, lda: hw,
                               b: xChunk + i * inChannels * hw, ldb: hw, beta: 1, c: dw, ldc: inChannels)
                }
            } else {
                Im2col.forward(xChunk, col, images: m, g)
                BLAS.sgemm(transB: true, m: outChannels, n: g.rows, k: m * hw,
                           a: gathered, lda: m * hw, b: col, ldb: m * hw, beta: 1, c: dw, ldc: g.rows)
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
                    BLAS.sgemm(transA: true, m: g.rows, n: m * hw, k: outChannels,
                               a: w, lda: g.rows, b: gathered, ldb: m * hw, c: col, ldc: m * hw)
                    Im2col.backward(col, dxChunk, images: m, g)
                }
            }
            n0 += m
        }
    }

    /// out[i, oc, :] = tmp[oc, i*HW ..< (i+1)*HW] + b[oc]
    private func scatterAddBias(_ tmp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                _ b: UnsafePointer<Float>, images m: Int, pixels hw: Int) {
        let ts = SendablePointer(tmp), os = SendablePointer(out), bs = SendablePointer(b)
        let oc = outChannels
        parallelChunks(oc, minimumPerThread: oc * m * hw >= 1 << 16 ? 1 : Int.max) { range in
            for c in range {
                let bias = bs.pointer[c]
                for i in 0..<m {
                    let src = ts.pointer + c * m * hw + i * hw
                    let dst = os.pointer + (i * oc + c) * hw
                    for p in 0..<hw { dst[p] = src[p] + bias }
                }
            }
        }
    }

    /// gathered[oc, i*HW + p] = dOut[i, oc, p]; db[oc] += sum over i, p.
    private func gatherRows(_ dOut: UnsafePointer<Float>, _ gathered: UnsafeMutablePointer<Float>,
                            _ db: UnsafeMutablePointer<Float>, images m: Int, pixels hw: Int) {
        let ds = SendablePointer(dOut), gs = SendablePointer(gathered), bs = SendablePointer(db)
        let oc = outChannels
        parallelChunks(oc, minimumPerThread: oc * m * hw >= 1 << 16 ? 1 : Int.max) { range in
            for c in range {
                var sum: Float = 0
                for i in 0..<m {
                    let src = ds.pointer + (i * oc + c) * hw
                    let dst = gs.pointer + c * m * hw + i * hw
                    for p in 0..<hw { dst[p] = src[p]; sum += src[p] }
                }
                bs.pointer[c] += sum
            }
        }
    }
}
