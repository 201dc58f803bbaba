/// Winograd F(4x4, 3x3) (Lavin & Gray 2016, interpolation points 0, ±1, ±2, ∞): each 4x4
/// output tile from a 6x6 input tile with 36 multiplies per channel pair instead of 144, a
/// quarter of the direct convolution's (F(2x2, 3x3) saves 4/9 of them):
///
///     Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
///
///     B^T = | 4  0 -5  0  1  0 |    G = |  1/4     0     0  |    A^T = | 1  1  1  1  1  0 |
///           | 0 -4 -4  1  1  0 |        | -1/6  -1/6  -1/6  |          | 0  1 -1  2 -2  0 |
///           | 0  4 -4 -1  1  0 |        | -1/6   1/6  -1/6  |          | 0  1  1  4  4  0 |
///           | 0 -2 -1  2  1  0 |        |  1/24  1/12  1/6  |          | 0  1 -1  8 -8  1 |
///           | 0  2 -1 -2  1  0 |        |  1/24 -1/12  1/6  |
///           | 0  4  0 -5  0  1 |        |  0     0     1    |
///
/// Everything else is as in `WinogradF2x3` (36 GEMMs instead of 16, the layouts (36, ·, P),
/// the backward pass the exact adjoint) but the plane transforms, whose lanes are images.
/// The larger coefficients cost some accuracy: outputs agree with the direct convolution to
/// about 1e-6 of their scale instead of 1e-7 (Conv2dTests).
public enum WinogradF4x3: WinogradVariant {
    public static let outputTile = 4
    public static let points = 36

    public static func applies(height: Int, width: Int) -> Bool {
        height > 0 && width > 0 && height % 4 == 0 && width % 4 == 0
    }

    public static func tiles(height: Int, width: Int) -> Int { (height / 4) * (width / 4) }

    /// The zero-bordered, image-interleaved plane and one tile's 36 points, eight lanes each.
    public static func scratchFloats(height: Int, width: Int, planes: Int) -> Int {
        8 * ((height + 2) * (width + 2) + 36)
    }

    // MARK: Weights

    /// U[ξ, oc, c] = (G g G^T)[ξ] for every filter g of w (OC, C, 3, 3), eight filters at a
    /// time (lanes = filters), the filters split over the threads.
    public static func transformWeights(_ w: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, filters: Int, threads: Int) {
        let ws = SendablePointer(w), us = SendablePointer(u)
        forFilters(filters, threads: threads) { q, lanes in
            if lanes == 8 {
                weights(SIMD8<Float>.self, ws.pointer, us.pointer, q, filters)
            } else {
                weights(Float.self, ws.pointer, us.pointer, q, filters)
            }
        }
    }

    /// dW[oc, c] += G^T dU[·, oc, c] G: the adjoint of `transformWeights`.
    public static func addWeightGradient(_ du: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>, filters: Int, threads: Int) {
        let dus = SendablePointer(du), dws = SendablePointer(dw)
        forFilters(filters, threads: threads) { q, lanes in
            if lanes == 8 {
                weightGradient(SIMD8<Float>.self, dus.pointer, dws.pointer, q, filters)
            } else {
                weightGradient(Float.self, dus.pointer, dws.pointer, q, filters)
            }
        }
    }

    @inline(__always)
    static func weights<L: TileLanes>(_: L.Type, _ w: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ q: Int, _ filters: Int) {
        let g = w + q * 9
        func tap(_ k: Int) -> L { L.load(g + k, stride: 9) }
        // G g (6x3) column by column, then each of its rows times G^T.
        let c0 = gMul(tap(0), tap(3), tap(6)), c1 = gMul(tap(1), tap(4), tap(7)), c2 = gMul(tap(2), tap(5), tap(8))
        func row(_ i: Int, _ a: L, _ b: L, _ c: L) {
            let v = gMul(a, b, c), base = u + i * 6 * filters + q
            L.store(v.0, base); L.store(v.1, base + filters); L.store(v.2, base + 2 * filters)
            L.store(v.3, base + 3 * filters); L.store(v.4, base + 4 * filters); L.store(v.5, base + 5 * filters)
        }
        row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
        row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
    }

    @inline(__always)
    static func weightGradient<L: TileLanes>(_: L.Type, _ du: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                                             _ q: Int, _ filters: Int) {
        // Each row of dU times G (three values), then G^T combines the six rows, column by column.
        func row(_ i: Int) -> (L, L, L) {
            let x = du + i * 6 * filters + q
            return gTMul(L.load(x), L.load(x + filters), L.load(x + 2 * filters),
                         L.load(x + 3 * filters), L.load(x + 4 * filters), L.load(x + 5 * filters))
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
        let g = dw + q * 9
        func add(_ column: Int, _ v: (L, L, L)) {
            let p = g + column
            L.store(L.load(p, stride: 9) + v.0, p, stride: 9)
            L.store(L.load(p + 3, stride: 9) + v.1, p + 3, stride: 9)
            L.store(L.load(p + 6, stride: 9) + v.2, p + 6, stride: 9)
        }
        add(0, gTMul(r0.0, r1.0, r2.0, r3.0, r4.0, r5.0))
        add(1, gTMul(r0.1, r1.1, r2.1, r3.1, r4.1, r5.1))
        add(2, gTMul(r0.2, r1.2, r2.2, r3.2, r4.2, r5.2))
    }

    /// G·(g0, g1, g2).
    @inline(__always)
    static func gMul<L: TileLanes>(_ g0: L, _ g1: L, _ g2: L) -> (L, L, L, L, L, L) {
        let sum = g0 + g2, a = g0.times(1 / 24) + g2.times(1 / 6), b = g1.times(1 / 12)
        return (g0.times(1 / 4), L.zero - (sum + g1).times(1 / 6), (g1 - sum).times(1 / 6), a + b, a - b, g2)
    }

    /// G^T·(x0...x5), the adjoint of `gMul`.
    @inline(__always)
    static func gTMul<L: TileLanes>(_ x0: L, _ x1: L, _ x2: L, _ x3: L, _ x4: L, _ x5: L) -> (L, L, L) {
        (x0.times(1 / 4) - (x1 + x2).times(1 / 6) + (x3 + x4).times(1 / 24),
         (x2 - x1).times(1 / 6) + (x3 - x4).times(1 / 12),
         (x3 + x4 - x1 - x2).times(1 / 6) + x5)
    }

    // MARK: The plane transforms
    //
    // Lanes are images: the same channel's planes of eight images (plane i at x + i *
    // planeStride) go through each tile's transform together, so every step is full-width
    // SIMD8 arithmetic with no shuffling, whatever the plane size (an 8x8 plane has only two
    // tiles a row). Columns of the (36, ·, P) layout go group by group, tile-major within a
    // group (tile t of the group's lane l is column i0 * tiles + t * lanes + l, i0 the group's
    // first image), so the eight images' values of a point are contiguous and a group's
    // successive tiles fill whole cache lines (tile-major across the chunk left each 32-byte
    // store on a line of its own: 2x the line traffic). The input is first copied into a zero-bordered, image-interleaved plane in
    // scratch ((H + 2) x (W + 2) x 8), which the overlapping 6x6 windows then read; the input
    // gradient is added up in such a plane and then into dx. The last images of a chunk that
    // do not fill eight lanes go one at a time (`Float` lanes).

    /// V[ξ, tile] = (B^T d B)[ξ] for every tile of the planes.
    public static func transformInput(_ x: UnsafePointer<Float>, planes: Int, planeStride: Int, height h: Int, width w: Int,
                                      _ v: UnsafeMutablePointer<Float>, xiStride: Int, scratch: UnsafeMutablePointer<Float>) {
        forImageGroups(planes) { i0, lanes, fresh in
            if lanes == 8 {
                inputGroup(SIMD8<Float>.self, x + i0 * planeStride, planeStride, h, w, v + i0 * tiles(height: h, width: w), xiStride, scratch, fresh: fresh)
            } else {
                inputGroup(Float.self, x + i0 * planeStride, planeStride, h, w, v + i0 * tiles(height: h, width: w), xiStride, scratch, fresh: fresh)
            }
        }
    }

    /// dx += the adjoint of `transformInput`: B dV B^T of every tile, summed where the 6x6
    /// tiles overlap, the padding border dropped.
    public static func addInputGradient(_ dv: UnsafePointer<Float>, xiStride: Int, _ dx: UnsafeMutablePointer<Float>,
                                        planes: Int, planeStride: Int, height h: Int, width w: Int,
                                        scratch: UnsafeMutablePointer<Float>) {
        forImageGroups(planes) { i0, lanes, fresh in
            if lanes == 8 {
                inputGradientGroup(SIMD8<Float>.self, dv + i0 * tiles(height: h, width: w), xiStride, dx + i0 * planeStride, planeStride, h, w, scratch, fresh: fresh)
            } else {
                inputGradientGroup(Float.self, dv + i0 * tiles(height: h, width: w), xiStride, dx + i0 * planeStride, planeStride, h, w, scratch, fresh: fresh)
            }
        }
    }

    /// out = A^T M A + bias for every tile of the planes.
    public static func transformOutput(_ m: UnsafePointer<Float>, xiStride: Int, bias: Float,
                                       _ out: UnsafeMutablePointer<Float>, planes: Int, planeStride: Int,
                                       height h: Int, width w: Int, scratch: UnsafeMutablePointer<Float>) {
        forImageGroups(planes) { i0, lanes, fresh in
            if lanes == 8 {
                outputGroup(SIMD8<Float>.self, m + i0 * tiles(height: h, width: w), xiStride, bias, out + i0 * planeStride, planeStride, h, w, scratch)
            } else {
                outputGroup(Float.self, m + i0 * tiles(height: h, width: w), xiStride, bias, out + i0 * planeStride, planeStride, h, w, scratch)
            }
        }
    }

    /// dM[ξ, tile] = (A dY A^T)[ξ] for every tile of the dOut planes; returns the sum of dOut.
    @discardableResult
    public static func transformOutputGradient(_ dy: UnsafePointer<Float>, planes: Int, planeStride: Int, height h: Int,
                                               width w: Int, _ dm: UnsafeMutablePointer<Float>, xiStride: Int,
                                               scratch: UnsafeMutablePointer<Float>) -> Float {
        var sum: Float = 0
        forImageGroups(planes) { i0, lanes, fresh in
            if lanes == 8 {
                sum += outputGradientGroup(SIMD8<Float>.self, dy + i0 * planeStride, planeStride, h, w, dm + i0 * tiles(height: h, width: w), xiStride, scratch)
            } else {
                sum += outputGradientGroup(Float.self, dy + i0 * planeStride, planeStride, h, w, dm + i0 * tiles(height: h, width: w), xiStride, scratch)
            }
        }
        return sum
    }

    /// `body(i0, 8, fresh)` for each group of eight images, then `body(i0, 1, fresh)` for those
    /// left; `fresh` is true for the first group of each width (the scratch plane's layout
    /// changes with the width, so that group zeroes it).
    @inline(__always)
    static func forImageGroups(_ planes: Int, _ body: (Int, Int, Bool) -> Void) {
        var i0 = 0
        while i0 + 8 <= planes { body(i0, 8, i0 == 0); i0 += 8 }
        let tail = i0
        while i0 < planes { body(i0, 1, i0 == tail); i0 += 1 }
    }

    // MARK: One group of images (lanes), all tiles

    /// The 6x6 points of one tile, lane-interleaved, live in `work` (36 x lanes floats) between
    /// the row pass and the column pass.
    @inline(__always)
    static func inputGroup<L: TileLanes>(_: L.Type, _ x: UnsafePointer<Float>, _ planeStride: Int, _ h: Int, _ w: Int,
                                         _ v: UnsafeMutablePointer<Float>, _ xiStride: Int,
                                         _ scratch: UnsafeMutablePointer<Float>, fresh: Bool) {
        let k = L.width, pw = w + 2, tx = w / 4
        let padded = scratch, work = scratch + (h + 2) * pw * k
        // The border stays zero from the first group on; the inside is each group's.
        if fresh { padded.update(repeating: 0, count: (h + 2) * pw * k) }
        for y in 0..<h { L.interleave(x + y * w, stride: planeStride, count: w, into: padded + ((y + 1) * pw + 1) * k) }
        for tile in 0..<((h / 4) * tx) {
            let corner = padded + ((tile / tx) * 4 * pw + (tile % tx) * 4) * k
            // d·B along each of the window's rows, then B^T· down each column.
            for r in 0..<6 {
                let row = corner + r * pw * k
                let t = bT(L.load(row), L.load(row + k), L.load(row + 2 * k), L.load(row + 3 * k), L.load(row + 4 * k), L.load(row + 5 * k))
                store6(t, work + r * 6 * k, k)
            }
            let out = v + tile * k
            for c in 0..<6 {
                let col = work + c * k
                let t = bT(L.load(col), L.load(col + 6 * k), L.load(col + 12 * k), L.load(col + 18 * k), L.load(col + 24 * k),
                           L.load(col + 30 * k))
                store6(t, out + c * xiStride, 6 * xiStride)
            }
        }
    }

    @inline(__always)
    static func inputGradientGroup<L: TileLanes>(_: L.Type, _ dv: UnsafePointer<Float>, _ xiStride: Int,
                                                 _ dx: UnsafeMutablePointer<Float>, _ planeStride: Int, _ h: Int, _ w: Int,
                                                 _ scratch: UnsafeMutablePointer<Float>, fresh: Bool) {
        let k = L.width, pw = w + 2, tx = w / 4
        let padded = scratch, work = scratch + (h + 2) * pw * k
        // Zero for the first group; each group then zeroes the inside as it reads it out (the
        // border gathers the padding's gradients, which nobody reads).
        if fresh { padded.update(repeating: 0, count: (h + 2) * pw * k) }
        for tile in 0..<((h / 4) * tx) {
            let src = dv + tile * k
            // B· down each column of dV, then ·B^T along each row, added into the window.
            for c in 0..<6 {
                let col = src + c * xiStride, s = 6 * xiStride
                let t = b(L.load(col), L.load(col + s), L.load(col + 2 * s), L.load(col + 3 * s), L.load(col + 4 * s), L.load(col + 5 * s))
                store6(t, work + c * k, 6 * k)
            }
            let corner = padded + ((tile / tx) * 4 * pw + (tile % tx) * 4) * k
            for r in 0..<6 {
                let row = work + r * 6 * k
                let t = b(L.load(row), L.load(row + k), L.load(row + 2 * k), L.load(row + 3 * k), L.load(row + 4 * k), L.load(row + 5 * k))
                add6(t, corner + r * pw * k, k)
            }
        }
        for y in 0..<h {
            let q = padded + ((y + 1) * pw + 1) * k
            L.deinterleave(q, into: dx + y * w, stride: planeStride, count: w, adding: true)
            q.update(repeating: 0, count: w * k)
        }
    }

    @inline(__always)
    static func outputGroup<L: TileLanes>(_: L.Type, _ m: UnsafePointer<Float>, _ xiStride: Int, _ bias: Float,
                                          _ out: UnsafeMutablePointer<Float>, _ planeStride: Int, _ h: Int, _ w: Int,
                                          _ scratch: UnsafeMutablePointer<Float>) {
        // The tiles go into an image-interleaved plane (h x w x lanes), then out to the planes.
        let k = L.width, tx = w / 4, b = L.splat(bias), plane = scratch, work = scratch + h * w * k
        for tile in 0..<((h / 4) * tx) {
            let src = m + tile * k
            // A^T· down each column of M (6 -> 4), then ·A along each of the 4 rows.
            for c in 0..<6 {
                let col = src + c * xiStride, s = 6 * xiStride
                let t = aT(L.load(col), L.load(col + s), L.load(col + 2 * s), L.load(col + 3 * s), L.load(col + 4 * s), L.load(col + 5 * s))
                L.store(t.0, work + c * k); L.store(t.1, work + (6 + c) * k)
                L.store(t.2, work + (12 + c) * k); L.store(t.3, work + (18 + c) * k)
            }
            let corner = plane + ((tile / tx) * 4 * w + (tile % tx) * 4) * k
            for a in 0..<4 {
                let row = work + a * 6 * k
                let y = aT(L.load(row), L.load(row + k), L.load(row + 2 * k), L.load(row + 3 * k), L.load(row + 4 * k), L.load(row + 5 * k))
                let p = corner + a * w * k
                L.store(y.0 + b, p); L.store(y.1 + b, p + k); L.store(y.2 + b, p + 2 * k); L.store(y.3 + b, p + 3 * k)
            }
        }
        for y in 0..<h { L.deinterleave(plane + y * w * k, into: out + y * w, stride: planeStride, count: w, adding: false) }
    }

    @inline(__always)
    static func outputGradientGroup<L: TileLanes>(_: L.Type, _ dy: UnsafePointer<Float>, _ planeStride: Int, _ h: Int, _ w: Int,
                                                  _ dm: UnsafeMutablePointer<Float>, _ xiStride: Int,
                                                  _ scratch: UnsafeMutablePointer<Float>) -> Float {
        // dY's planes first go into an image-interleaved plane (h x w x lanes).
        let k = L.width, tx = w / 4, plane = scratch, work = scratch + h * w * k
        for y in 0..<h { L.interleave(dy + y * w, stride: planeStride, count: w, into: plane + y * w * k) }
        var sum = L.zero
        for tile in 0..<((h / 4) * tx) {
            let corner = plane + ((tile / tx) * 4 * w + (tile % tx) * 4) * k
            // ·A^T along each of the 4 rows of dY (4 -> 6), then A· down each column.
            for a in 0..<4 {
                let p = corner + a * w * k
                let y0 = L.load(p), y1 = L.load(p + k), y2 = L.load(p + 2 * k), y3 = L.load(p + 3 * k)
                sum = sum + (y0 + y1) + (y2 + y3)
                store6(Self.a(y0, y1, y2, y3), work + a * 6 * k, k)
            }
            let out = dm + tile * k
            for c in 0..<6 {
                let col = work + c * k
                let t = Self.a(L.load(col), L.load(col + 6 * k), L.load(col + 12 * k), L.load(col + 18 * k))
                store6(t, out + c * xiStride, 6 * xiStride)
            }
        }
        return sum.total
    }

    @inline(__always)
    static func store6<L: TileLanes>(_ t: (L, L, L, L, L, L), _ p: UnsafeMutablePointer<Float>, _ s: Int) {
        L.store(t.0, p); L.store(t.1, p + s); L.store(t.2, p + 2 * s)
        L.store(t.3, p + 3 * s); L.store(t.4, p + 4 * s); L.store(t.5, p + 5 * s)
    }

    @inline(__always)
    static func add6<L: TileLanes>(_ t: (L, L, L, L, L, L), _ p: UnsafeMutablePointer<Float>, _ s: Int) {
        L.store(L.load(p) + t.0, p); L.store(L.load(p + s) + t.1, p + s); L.store(L.load(p + 2 * s) + t.2, p + 2 * s)
        L.store(L.load(p + 3 * s) + t.3, p + 3 * s); L.store(L.load(p + 4 * s) + t.4, p + 4 * s)
        L.store(L.load(p + 5 * s) + t.5, p + 5 * s)
    }

    // MARK: The 1-D transforms on lanes

    /// B^T·(d0...d5).
    @inline(__always)
    static func bT<L: TileLanes>(_ d0: L, _ d1: L, _ d2: L, _ d3: L, _ d4: L, _ d5: L) -> (L, L, L, L, L, L) {
        let a = d4 - d2.times(4), b = d3 - d1.times(4)  // rows 1-2 share these
        let c = d4 - d2, e = (d3 - d1).times(2)        // rows 3-4
        return (d0.times(4) - d2.times(5) + d4, a + b, a - b, c + e, c - e, d1.times(4) - d3.times(5) + d5)
    }

    /// B·(g0...g5), the adjoint of `bT`.
    @inline(__always)
    static func b<L: TileLanes>(_ g0: L, _ g1: L, _ g2: L, _ g3: L, _ g4: L, _ g5: L) -> (L, L, L, L, L, L) {
        (g0.times(4),
         (g2 - g1).times(4) + (g4 - g3).times(2) + g5.times(4),
         L.zero - g0.times(5) - (g1 + g2).times(4) - g3 - g4,
         g1 - g2 + (g3 - g4).times(2) - g5.times(5),
         g0 + g1 + g2 + g3 + g4,
         g5)
    }

    /// A^T·(m0...m5).
    @inline(__always)
    static func aT<L: TileLanes>(_ m0: L, _ m1: L, _ m2: L, _ m3: L, _ m4: L, _ m5: L) -> (L, L, L, L) {
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        return (m0 + s12 + s34, d12 + d34.times(2), s12 + s34.times(4), d12 + d34.times(8) + m5)
    }

    /// A·(y0...y3), the adjoint of `aT`.
    @inline(__always)
    static func a<L: TileLanes>(_ y0: L, _ y1: L, _ y2: L, _ y3: L) -> (L, L, L, L, L, L) {
        let even1 = y0 + y2, odd1 = y1 + y3, even2 = y0 + y2.times(4), odd2 = y1.times(2) + y3.times(8)
        return (y0, even1 + odd1, even1 - odd1, even2 + odd2, even2 - odd2, y3)
    }

}
