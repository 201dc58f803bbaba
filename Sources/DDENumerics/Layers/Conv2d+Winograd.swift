/// The Winograd path of `Conv2d`: for 3x3, stride-1, padding-1 convolutions with at least 16
/// channels in and out (the U-Net's resnet and upsampler convolutions), F(4x4, 3x3) where the
/// planes split into 4x4 tiles (`WinogradF4x3`: 36 GEMMs of (OC x C) by (C x tiles), 1/4 of the
/// direct multiplies) and F(2x2, 3x3) where they split into 2x2 ones (`WinogradF2x3`: 16 GEMMs,
/// 4/9), at the cost of the tile transforms.
///
/// Threading is the im2col path's: each thread takes a contiguous share of the images, in chunks
/// that fit the workspace's column budget, and calls single-threaded sgemm. Weight gradients
/// are summed per thread in the transformed domain, added in thread order after the join, then
/// transformed back once. In training the forward keeps the transformed input (V) and weights
/// (U) for the backward (`transformedInput`); a frozen store (a reference model) transforms its
/// weights once and keeps them (`ParameterStore.freeze`).
extension Conv2d {
    /// Which Winograd algorithms convolutions may use (the `conv.winograd` key): F(4x4, 3x3)
    /// where the planes split into 4x4 tiles and F(2x2, 3x3) where they split into 2x2 ones
    /// (`f4x4`), F(2x2, 3x3) only (`f2x2`), or none (`off`: im2col + GEMM everywhere).
    public enum WinogradSetting: String, CaseIterable, Sendable {
        case f4x4, f2x2, off
    }

    /// The Winograd algorithm this convolution uses on planes of this size, if any.
    public func winogradVariant(height: Int, width: Int, _ ws: Workspace) -> (any WinogradVariant.Type)? {
        guard kernel == 3 && stride == 1 && padding == 1 && inChannels >= 16 && outChannels >= 16 else { return nil }
        switch ws.convolution {
        case .f4x4 where WinogradF4x3.applies(height: height, width: width): return WinogradF4x3.self
        case .f4x4, .f2x2: return WinogradF2x3.applies(height: height, width: width) ? WinogradF2x3.self : nil
        case .off: return nil
        }
    }

    /// U = the weights transformed by `variant`: into `buffer`, or, for a frozen store, the copy
    /// it keeps (transformed on first use).
    func transformedWeights(_ variant: any WinogradVariant.Type, _ store: ParameterStore,
                            into buffer: UnsafeMutablePointer<Float>, _ ws: Workspace) -> UnsafeMutablePointer<Float> {
        let filters = outChannels * inChannels
        let transform = { (u: UnsafeMutablePointer<Float>) in
            ws.profiler.measure(.convWeightTransforms) { variant.transformWeights(store.parameters(weight), u, filters: filters, threads: ws.threads) }
        }
        if store.isFrozen { return store.derived(weight, kind: variant.points, count: variant.points * filters, compute: transform) }
        transform(buffer)
        return buffer
    }

    /// Floats between the points' matrices of a (points, rows, p) layout: rows x p and a pad of
    /// one cache line. Without the pad the stride is a multiple of 4 KiB (p is a multiple of 8,
    /// the channels of 16), so the 36 stores of a tile's points all fall in one cache set and
    /// evict each other; with it they fall in consecutive sets.
    static func pointStride(rows: Int, columns p: Int) -> Int { rows * p + 16 }

    /// The floats of a chunk's (points, rows, p) layout, pads included.
    static func pointsFloats(_ variant: any WinogradVariant.Type, rows: Int, columns p: Int) -> Int {
        variant.points * pointStride(rows: rows, columns: p)
    }

    /// Images per chunk: the transformed input (points x C x tiles) and output (points x OC x
    /// tiles) of a chunk each fit the column budget.
    func winogradChunk(_ variant: any WinogradVariant.Type, _ n: Int, height: Int, width: Int, _ ws: Workspace) -> Int {
        let perImage = variant.points * max(inChannels, outChannels) * variant.tiles(height: height, width: width)
        return max(1, min(n, ws.columnBudget / perImage))
    }

    /// Floats per image of the kept V: its (points, C, tiles) share and the pads of a chunk it
    /// may start (a chunk of images n0..<n0 + count sits at n0 x this, within its images' share).
    func keptPerImage(_ variant: any WinogradVariant.Type, height: Int, width: Int) -> Int {
        Self.pointsFloats(variant, rows: inChannels, columns: variant.tiles(height: height, width: width))
    }

    /// `transformedInput`, when given, keeps V of all n images and U for `winogradBackward`, which
    /// then transforms neither again (training; points/9 times the input's and weights' floats).
    /// Not while only LoRA adapters train: the backward then needs no V (no weight gradient).
    func winogradForward(_ variant: any WinogradVariant.Type, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                         n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace,
                         transformedInput given: FloatBuffer?) {
        let transformedInput = store.trainsWeights ? given : nil
        let filters = outChannels * inChannels, points = variant.points
        let perImage = keptPerImage(variant, height: height, width: width)
        // The kept buffer holds V of the n images, then U (the backward's weights are the same).
        let keptBuffer = transformedInput?.reserve(n * perImage + points * filters)
        let kept = keptBuffer.map { SendablePointer($0) }
        let u = transformedWeights(variant, store, into: keptBuffer.map { $0 + n * perImage } ?? ws.transformedWeights.reserve(points * filters), ws)
        let threads = threads(n, geometry(height: height, width: width), ws), share = (n + threads - 1) / threads
        let xs = SendablePointer(x), outs = SendablePointer(out), us = SendablePointer(u)
        let b = SendablePointer(store.parameters(bias))
        parallelFor(threads) { t in
            let lo = t * share, hi = min(n, lo + share)
            if lo < hi {
                winogradForwardImages(variant, xs.pointer, outs.pointer, lo..<hi, height, width, us.pointer, b.pointer, ws,
                                      kept: kept?.pointer, thread: t)
            }
        }
    }

    private func winogradForwardImages(_ variant: any WinogradVariant.Type, _ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                       _ images: Range<Int>, _ h: Int, _ w: Int, _ u: UnsafeMutablePointer<Float>,
                                       _ b: UnsafeMutablePointer<Float>, _ ws: Workspace, kept: UnsafeMutablePointer<Float>?,
                                       thread: Int) {
        let hw = h * w, points = variant.points, tiles = variant.tiles(height: h, width: w), nb = winogradChunk(variant, images.count, height: h, width: w, ws)
        let column = kept == nil ? ws.col[thread].reserve(Self.pointsFloats(variant, rows: inChannels, columns: nb * tiles)) : nil
        let m = ws.gemm[thread].reserve(Self.pointsFloats(variant, rows: outChannels, columns: nb * tiles))
        let keptPerImage = keptPerImage(variant, height: h, width: w)
        let scratch = ws.plane[thread].reserve(variant.scratchFloats(height: h, width: w, planes: nb))
        var n0 = images.lowerBound
        while n0 < images.upperBound {
            let count = min(nb, images.upperBound - n0), p = count * tiles
            let vStride = Self.pointStride(rows: inChannels, columns: p), mStride = Self.pointStride(rows: outChannels, columns: p)
            // The chunk's V: in the kept buffer at the chunk's first image, or in scratch.
            let v = kept.map { $0 + n0 * keptPerImage } ?? column!
            ws.profiler.measure(.convTransforms, thread: thread) {
                for c in 0..<inChannels {
                    variant.transformInput(x + (n0 * inChannels + c) * hw, planes: count, planeStride: inChannels * hw,
                                           height: h, width: w, v + c * p, xiStride: vStride, scratch: scratch)
                }
            }
            ws.profiler.measure(.convGEMM, thread: thread) {
                for xi in 0..<points {
                    // M[ξ] (OC, P) = U[ξ] (OC, C) · V[ξ] (C, P)
                    BLAS.sgemm(m: outChannels, n: p, k: inChannels, a: u + xi * outChannels * inChannels, lda: inChannels,
                               b: v + xi * vStride, ldb: p, c: m + xi * mStride, ldc: p)
                }
            }
            ws.profiler.measure(.convTransforms, thread: thread) {
                for oc in 0..<outChannels {
                    variant.transformOutput(m + oc * p, xiStride: mStride, bias: b[oc], out + (n0 * outChannels + oc) * hw,
                                            planes: count, planeStride: outChannels * hw, height: h, width: w, scratch: scratch)
                }
            }
            n0 += count
        }
    }

    /// `transformedInput`: the buffer the forward kept V in (the same images, the same weights),
    /// or nil to transform the input again (and always nil while only LoRA adapters train).
    func winogradBackward(_ variant: any WinogradVariant.Type, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                          n: Int, height: Int, width: Int, _ store: ParameterStore, _ ws: Workspace,
                          transformedInput given: FloatBuffer?) {
        let transformedInput = store.trainsWeights ? given : nil
        let filters = outChannels * inChannels, points = variant.points
        let perImage = keptPerImage(variant, height: height, width: width)
        let u = (store.isFrozen ? nil : transformedInput.map { $0.pointer + n * perImage })
            ?? transformedWeights(variant, store, into: ws.transformedWeights.reserve(points * filters), ws)
        let threads = threads(n, geometry(height: height, width: width), ws), share = (n + threads - 1) / threads
        // Every thread sums dU (points x OC x C) and db (OC) into its own partial, zeroed by itself.
        let partialCount = points * filters + outChannels
        for t in 0..<threads { ws.partial[t].reserve(partialCount) }
        let ds = SendablePointer(dOut), xs = SendablePointer(x), dxs = dx.map { SendablePointer($0) }, us = SendablePointer(u)
        let kept = transformedInput.map { SendablePointer($0.pointer) }
        parallelFor(threads) { t in
            ws.partial[t].zero(partialCount)
            let lo = t * share, hi = min(n, lo + share)
            if lo < hi {
                winogradBackwardImages(variant, ds.pointer, xs.pointer, dxs?.pointer, lo..<hi, height, width, us.pointer,
                                       ws.partial[t].pointer, ws, kept: kept?.pointer, thread: t, weights: store.trainsWeights)
            }
        }
        guard store.trainsWeights else { return }
        // Thread 0's partial takes the others' (in thread order), split over the threads by range.
        let partials = (0..<threads).map { SendablePointer(ws.partial[$0].pointer) }
        parallelChunks(partialCount, threads: ws.threads, minimumPerThread: 1 << 14) { range in
            let sum = partials[0].pointer
            for t in 1..<partials.count {
                let p = partials[t].pointer
                var i = range.lowerBound
                while i + 8 <= range.upperBound { sum.store8(sum.load8(i) + p.load8(i), i); i += 8 }
                while i < range.upperBound { sum[i] += p[i]; i += 1 }
            }
        }
        let sum = ws.partial[0].pointer
        ws.profiler.measure(.convWeightTransforms) { variant.addWeightGradient(sum, store.gradient(weight), filters: filters, threads: ws.threads) }
        let db = store.gradient(bias)
        for oc in 0..<outChannels { db[oc] += sum[points * filters + oc] }
    }

    private func winogradBackwardImages(_ variant: any WinogradVariant.Type, _ dOut: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                                        _ dx: UnsafeMutablePointer<Float>?, _ images: Range<Int>, _ h: Int, _ w: Int,
                                        _ u: UnsafeMutablePointer<Float>, _ partial: UnsafeMutablePointer<Float>,
                                        _ ws: Workspace, kept: UnsafeMutablePointer<Float>?, thread: Int, weights: Bool) {
        let hw = h * w, points = variant.points, tiles = variant.tiles(height: h, width: w), nb = winogradChunk(variant, images.count, height: h, width: w, ws)
        let filters = outChannels * inChannels
        let v = ws.col[thread].reserve(Self.pointsFloats(variant, rows: inChannels, columns: nb * tiles))
        let dm = ws.gemm[thread].reserve(Self.pointsFloats(variant, rows: outChannels, columns: nb * tiles))
        let keptPerImage = keptPerImage(variant, height: h, width: w)
        let scratch = ws.plane[thread].reserve(variant.scratchFloats(height: h, width: w, planes: nb))
        let du = partial, db = partial + points * filters
        var n0 = images.lowerBound
        while n0 < images.upperBound {
            let count = min(nb, images.upperBound - n0), p = count * tiles
            let vStride = Self.pointStride(rows: inChannels, columns: p), mStride = Self.pointStride(rows: outChannels, columns: p)
            // V as the forward kept it, or transformed again into scratch; dV always goes to scratch.
            let vForward = kept.map { $0 + n0 * keptPerImage } ?? v
            ws.profiler.measure(.convTransforms, thread: thread) {
                for oc in 0..<outChannels {
                    db[oc] += variant.transformOutputGradient(dOut + (n0 * outChannels + oc) * hw, planes: count,
                                                              planeStride: outChannels * hw, height: h, width: w,
                                                              dm + oc * p, xiStride: mStride, scratch: scratch)
                }
                if kept == nil && weights {
                    for c in 0..<inChannels {
                        variant.transformInput(x + (n0 * inChannels + c) * hw, planes: count, planeStride: inChannels * hw,
                                               height: h, width: w, v + c * p, xiStride: vStride, scratch: scratch)
                    }
                }
            }
            if weights { ws.profiler.measure(.convGEMM, thread: thread) {
                for xi in 0..<points {
                    // dU[ξ] (OC, C) += dM[ξ] (OC, P) · V[ξ]^T (not while only LoRA adapters train)
                    BLAS.sgemm(transB: true, m: outChannels, n: inChannels, k: p, a: dm + xi * mStride, lda: p,
                               b: vForward + xi * vStride, ldb: p, beta: 1, c: du + xi * filters, ldc: inChannels)
                }
            } }
            if let dx {
                ws.profiler.measure(.convGEMM, thread: thread) {
                    for xi in 0..<points {
                        // dV[ξ] (C, P) = U[ξ]^T · dM[ξ], into the scratch V (done with, or unused).
                        BLAS.sgemm(transA: true, m: inChannels, n: p, k: outChannels, a: u + xi * filters, lda: inChannels,
                                   b: dm + xi * mStride, ldb: p, c: v + xi * vStride, ldc: p)
                    }
                }
                ws.profiler.measure(.convTransforms, thread: thread) {
                    for c in 0..<inChannels {
                        variant.addInputGradient(v + c * p, xiStride: vStride, dx + (n0 * inChannels + c) * hw,
                                                 planes: count, planeStride: inChannels * hw, height: h, width: w, scratch: scratch)
                    }
                }
            }
            n0 += count
        }
    }
}
