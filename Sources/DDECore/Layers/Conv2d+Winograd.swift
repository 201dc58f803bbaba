/// The Winograd F(2x2, 3x3) path of `Conv2d` (see `WinogradF2x3`): for 3x3, stride-1,
/// padding-1 convolutions on even-sized planes with at least 16 channels in and out, the
/// U-Net's resnet and upsampler convolutions. 16 GEMMs of (OC x C) by (C x tiles) replace one of
/// (OC x 9C) by (9C x pixels): 4/9 of the multiplies, at the cost of the tile transforms.
///
/// Threading is the im2col path's: each thread takes a contiguous share of the images, in chunks
/// that fit the workspace's column budget, and calls single-threaded sgemm. Weight gradients
/// are summed per thread in the transformed domain, added in thread order after the join, then
/// transformed back once.
extension Conv2d {
    /// Process-wide switch (the `conv.winograd` key; benchmarks compare both paths).
    nonisolated(unsafe) public static var winogradEnabled = true

    /// Whether this convolution takes the Winograd path on planes of this size.
    public func usesWinograd(height: Int, width: Int) -> Bool {
        Conv2d.winogradEnabled && inChannels >= 16 && outChannels >= 16
            && WinogradF2x3.applies(kernel: kernel, stride: stride, padding: padding, height: height, width: width)
    }

    /// Images per chunk: the transformed input (16 x C x tiles) and output (16 x OC x tiles)
    /// of a chunk each fit the column budget.
    func winogradChunk(_ n: Int, height: Int, width: Int, _ ws: Workspace) -> Int {
        let perImage = 16 * max(inChannels, outChannels) * WinogradF2x3.tiles(height: height, width: width)
        return max(1, min(n, ws.columnBudget / perImage))
    }

    func winogradForward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                         n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace) {
        let filters = outChannels * inChannels
        let u = ws.transformedWeights.reserve(16 * filters)
        WinogradF2x3.transformWeights(store.parameters(weight), u, filters: filters)
        let threads = threads(n, geometry(height: height, width: width)), share = (n + threads - 1) / threads
        let xs = SendablePointer(x), outs = SendablePointer(out), us = SendablePointer(u)
        let b = SendablePointer(store.parameters(bias))
        parallelFor(threads) { t in
            let lo = t * share, hi = min(n, lo + share)
            if lo < hi {
                winogradForwardImages(xs.pointer, outs.pointer, lo..<hi, height, width, us.pointer, b.pointer, ws, thread: t)
            }
        }
    }

    private func winogradForwardImages(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                       _ images: Range<Int>, _ h: Int, _ w: Int, _ u: UnsafeMutablePointer<Float>,
                                       _ b: UnsafeMutablePointer<Float>, _ ws: Workspace, thread: Int) {
        let hw = h * w, tiles = WinogradF2x3.tiles(height: h, width: w), nb = winogradChunk(images.count, height: h, width: w, ws)
        let v = ws.col[thread].reserve(16 * inChannels * nb * tiles)
        let m = ws.gemm[thread].reserve(16 * outChannels * nb * tiles)
        let scratch = ws.plane[thread].reserve(WinogradF2x3.scratchFloats(height: h, width: w))
        var n0 = images.lowerBound
        while n0 < images.upperBound {
            let count = min(nb, images.upperBound - n0), p = count * tiles
            for i in 0..<count {
                for c in 0..<inChannels {
                    WinogradF2x3.transformInput(x + ((n0 + i) * inChannels + c) * hw, height: h, width: w,
                                                v + c * p + i * tiles, xiStride: inChannels * p, scratch: scratch)
                }
            }
            for xi in 0..<16 {
                // M[ξ] (OC, P) = U[ξ] (OC, C) · V[ξ] (C, P)
                BLAS.sgemm(m: outChannels, n: p, k: inChannels, a: u + xi * outChannels * inChannels, lda: inChannels,
                           b: v + xi * inChannels * p, ldb: p, c: m + xi * outChannels * p, ldc: p)
            }
            for i in 0..<count {
                for oc in 0..<outChannels {
                    WinogradF2x3.transformOutput(m + oc * p + i * tiles, xiStride: outChannels * p, bias: b[oc],
                                                 out + ((n0 + i) * outChannels + oc) * hw, height: h, width: w, scratch: scratch)
                }
            }
            n0 += count
        }
    }

    func winogradBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                          n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace) {
        let filters = outChannels * inChannels
        let u = ws.transformedWeights.reserve(16 * filters)
        WinogradF2x3.transformWeights(store.parameters(weight), u, filters: filters)
        let threads = threads(n, geometry(height: height, width: width)), share = (n + threads - 1) / threads
        // Every thread sums dU (16 x OC x C) and db (OC) into its own zeroed partial.
        let partialCount = 16 * filters + outChannels
        for t in 0..<threads { ws.partial[t].reserve(partialCount); ws.partial[t].zero(partialCount) }
        let ds = SendablePointer(dOut), xs = SendablePointer(x), dxs = dx.map { SendablePointer($0) }, us = SendablePointer(u)
        parallelFor(threads) { t in
            let lo = t * share, hi = min(n, lo + share)
            if lo < hi {
                winogradBackwardImages(ds.pointer, xs.pointer, dxs?.pointer, lo..<hi, height, width, us.pointer,
                                       ws.partial[t].pointer, ws, thread: t)
            }
        }
        let sum = ws.partial[0].pointer
        for t in 1..<max(threads, 1) {
            let p = ws.partial[t].pointer
            for i in 0..<partialCount { sum[i] += p[i] }
        }
        WinogradF2x3.addWeightGradient(sum, store.gradient(weight), filters: filters)
        let db = store.gradient(bias)
        for oc in 0..<outChannels { db[oc] += sum[16 * filters + oc] }
    }

    private func winogradBackwardImages(_ dOut: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                                        _ dx: UnsafeMutablePointer<Float>?, _ images: Range<Int>, _ h: Int, _ w: Int,
                                        _ u: UnsafeMutablePointer<Float>, _ partial: UnsafeMutablePointer<Float>,
                                        _ ws: Workspace, thread: Int) {
        let hw = h * w, tiles = WinogradF2x3.tiles(height: h, width: w), nb = winogradChunk(images.count, height: h, width: w, ws)
        let filters = outChannels * inChannels
        let v = ws.col[thread].reserve(16 * inChannels * nb * tiles)
        let dm = ws.gemm[thread].reserve(16 * outChannels * nb * tiles)
        let scratch = ws.plane[thread].reserve(WinogradF2x3.scratchFloats(height: h, width: w))
        let du = partial, db = partial + 16 * filters
        var n0 = images.lowerBound
        while n0 < images.upperBound {
            let count = min(nb, images.upperBound - n0), p = count * tiles
            for i in 0..<count {
                for oc in 0..<outChannels {
                    db[oc] += WinogradF2x3.transformOutputGradient(dOut + ((n0 + i) * outChannels + oc) * hw, height: h, width: w,
                                                                  dm + oc * p + i * tiles, xiStride: outChannels * p, scratch: scratch)
                }
                for c in 0..<inChannels {
                    WinogradF2x3.transformInput(x + ((n0 + i) * inChannels + c) * hw, height: h, width: w,
                                                v + c * p + i * tiles, xiStride: inChannels * p, scratch: scratch)
                }
            }
            for xi in 0..<16 {
                // dU[ξ] (OC, C) += dM[ξ] (OC, P) · V[ξ]^T
                BLAS.sgemm(transB: true, m: outChannels, n: inChannels, k: p, a: dm + xi * outChannels * p, lda: p,
                           b: v + xi * inChannels * p, ldb: p, beta: 1, c: du + xi * filters, ldc: inChannels)
            }
            if let dx {
                for xi in 0..<16 {
                    // dV[ξ] (C, P) = U[ξ]^T · dM[ξ], into V's place (V is done with).
                    BLAS.sgemm(transA: true, m: inChannels, n: p, k: outChannels, a: u + xi * filters, lda: inChannels,
                               b: dm + xi * outChannels * p, ldb: p, c: v + xi * inChannels * p, ldc: p)
                }
                for i in 0..<count {
                    for c in 0..<inChannels {
                        WinogradF2x3.addInputGradient(v + c * p + i * tiles, xiStride: inChannels * p,
                                                      dx + ((n0 + i) * inChannels + c) * hw, height: h, width: w, scratch: scratch)
                    }
                }
            }
            n0 += count
        }
    }
}
