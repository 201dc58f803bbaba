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
/// Everything else is as in `WinogradF2x3`: 36 GEMMs instead of 16, the layouts (36, ·, P),
/// two-pass plane transforms generic over `TileLanes`, the backward pass the exact adjoint.
/// The larger coefficients cost some accuracy: outputs agree with the direct convolution to
/// about 1e-6 of their scale instead of 1e-7 (Conv2dTests).
public enum WinogradF4x3: WinogradVariant {
    public static let outputTile = 4
    public static let points = 36

    public static func applies(height: Int, width: Int) -> Bool {
        height > 0 && width > 0 && height % 4 == 0 && width % 4 == 0
    }

    public static func tiles(height: Int, width: Int) -> Int { (height / 4) * (width / 4) }

    /// The zero-bordered plane (plus a margin for the eight-lane loads that run two floats
    /// past a row's end) and 36 rows of one value per tile of the planes.
    public static func scratchFloats(height: Int, width: Int, planes: Int) -> Int {
        (height + 2) * (width + 2) + 8 + 36 * planes * tiles(height: height, width: width)
    }

    // MARK: Weights

    /// U[ξ, oc, c] = (G g G^T)[ξ] for every filter g of w (OC, C, 3, 3), eight filters at a
    /// time (lanes = filters), the filters split over the threads.
    public static func transformWeights(_ w: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, filters: Int) {
        let ws = SendablePointer(w), us = SendablePointer(u)
        forFilters(filters) { q, lanes in
            if lanes == 8 {
                weights(SIMD8<Float>.self, ws.pointer, us.pointer, q, filters)
            } else {
                weights(Float.self, ws.pointer, us.pointer, q, filters)
            }
        }
    }

    /// dW[oc, c] += G^T dU[·, oc, c] G: the adjoint of `transformWeights`.
    public static func addWeightGradient(_ du: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>, filters: Int) {
        let dus = SendablePointer(du), dws = SendablePointer(dw)
        forFilters(filters) { q, lanes in
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

    // MARK: The plane transforms (as in WinogradF2x3, with 6x6 tiles stepping by 4)

    /// V[ξ, tile] = (B^T d B)[ξ] for every tile of the planes.
    public static func transformInput(_ x: UnsafePointer<Float>, planes: Int, planeStride: Int, height h: Int, width w: Int,
                                      _ v: UnsafeMutablePointer<Float>, xiStride: Int, scratch: UnsafeMutablePointer<Float>) {
        let pw = w + 2, tx = w / 4, ty = h / 4, tiles = tx * ty, n = planes * tiles
        let padded = scratch, rows = scratch + (h + 2) * pw + 8
        padded.update(repeating: 0, count: (h + 2) * pw + 8)  // the border stays zero, the inside is each plane's
        for i in 0..<planes {
            copyInside(x + i * planeStride, height: h, width: w, padded)
            // Along each padded row, d·B: rows[(c * 6 + r) * n + tile] is column c of the tile's row r.
            // Padded row y is row y % 4 of tile row y / 4 and, when y % 4 < 2, row y % 4 + 4 of the one above.
            for y in 0..<(h + 2) {
                for above in 0..<2 {
                    let tileRow = y / 4 - above, r = y % 4 + 4 * above
                    if tileRow < 0 || tileRow >= ty || r > 5 { continue }
                    let out = rows + r * n + i * tiles + tileRow * tx, src = UnsafePointer(padded + y * pw)
                    var t = inputRow(SIMD8<Float>.self, src, out, 6 * n, from: 0, to: tx)
                    t = inputRow(SIMD4<Float>.self, src, out, 6 * n, from: t, to: tx)
                    t = inputRow(SIMD2<Float>.self, src, out, 6 * n, from: t, to: tx)
                    inputRow(Float.self, src, out, 6 * n, from: t, to: tx)
                }
            }
        }
        // Down each column c, B^T·: V[r' * 6 + c] from the tile's rows r = 0...5.
        for c in 0..<6 {
            let src = UnsafePointer(rows + c * 6 * n), out = v + c * xiStride
            let t = inputColumn(SIMD8<Float>.self, src, n, out, 6 * xiStride, from: 0, to: n)
            inputColumn(Float.self, src, n, out, 6 * xiStride, from: t, to: n)
        }
    }

    /// dx += the adjoint of `transformInput`.
    public static func addInputGradient(_ dv: UnsafePointer<Float>, xiStride: Int, _ dx: UnsafeMutablePointer<Float>,
                                        planes: Int, planeStride: Int, height h: Int, width w: Int,
                                        scratch: UnsafeMutablePointer<Float>) {
        let pw = w + 2, tx = w / 4, ty = h / 4, tiles = tx * ty, n = planes * tiles
        let padded = scratch, rows = scratch + (h + 2) * pw + 8
        for c in 0..<6 {
            let src = dv + c * xiStride, out = rows + c * 6 * n
            let t = inputGradientColumn(SIMD8<Float>.self, src, 6 * xiStride, out, n, from: 0, to: n)
            inputGradientColumn(Float.self, src, 6 * xiStride, out, n, from: t, to: n)
        }
        for i in 0..<planes {
            padded.update(repeating: 0, count: (h + 2) * pw + 8)
            for tileRow in 0..<ty {
                for r in 0..<6 {
                    let dst = padded + (4 * tileRow + r) * pw, src = UnsafePointer(rows + r * n + i * tiles + tileRow * tx)
                    var t = inputGradientRow(SIMD8<Float>.self, src, 6 * n, dst, from: 0, to: tx)
                    t = inputGradientRow(SIMD4<Float>.self, src, 6 * n, dst, from: t, to: tx)
                    t = inputGradientRow(SIMD2<Float>.self, src, 6 * n, dst, from: t, to: tx)
                    inputGradientRow(Float.self, src, 6 * n, dst, from: t, to: tx)
                }
            }
            addInside(padded, height: h, width: w, to: dx + i * planeStride)
        }
    }

    /// out = A^T M A + bias for every tile of the planes.
    public static func transformOutput(_ m: UnsafePointer<Float>, xiStride: Int, bias: Float,
                                       _ out: UnsafeMutablePointer<Float>, planes: Int, planeStride: Int,
                                       height h: Int, width w: Int, scratch: UnsafeMutablePointer<Float>) {
        let tx = w / 4, ty = h / 4, tiles = tx * ty, n = planes * tiles
        // Down each column c, A^T·: scratch[(c * 4 + a) * n + tile] for output row a.
        for c in 0..<6 {
            let src = m + c * xiStride, dst = scratch + c * 4 * n
            let t = outputColumn(SIMD8<Float>.self, src, 6 * xiStride, dst, n, from: 0, to: n)
            outputColumn(Float.self, src, 6 * xiStride, dst, n, from: t, to: n)
        }
        for i in 0..<planes {
            for tileRow in 0..<ty {
                for a in 0..<4 {
                    let dst = out + i * planeStride + (4 * tileRow + a) * w
                    let src = UnsafePointer(scratch + a * n + i * tiles + tileRow * tx)
                    var t = outputRow(SIMD8<Float>.self, src, 4 * n, bias, dst, from: 0, to: tx)
                    t = outputRow(SIMD4<Float>.self, src, 4 * n, bias, dst, from: t, to: tx)
                    t = outputRow(SIMD2<Float>.self, src, 4 * n, bias, dst, from: t, to: tx)
                    outputRow(Float.self, src, 4 * n, bias, dst, from: t, to: tx)
                }
            }
        }
    }

    /// dM[ξ, tile] = (A dY A^T)[ξ] for every tile of the dOut planes; returns the sum of dOut.
    @discardableResult
    public static func transformOutputGradient(_ dy: UnsafePointer<Float>, planes: Int, planeStride: Int, height h: Int,
                                               width w: Int, _ dm: UnsafeMutablePointer<Float>, xiStride: Int,
                                               scratch: UnsafeMutablePointer<Float>) -> Float {
        let tx = w / 4, ty = h / 4, tiles = tx * ty, n = planes * tiles
        var sum: Float = 0
        for i in 0..<planes {
            for tileRow in 0..<ty {
                for a in 0..<4 {
                    let src = dy + i * planeStride + (4 * tileRow + a) * w, dst = scratch + a * n + i * tiles + tileRow * tx
                    var t = outputGradientRow(SIMD8<Float>.self, src, dst, 4 * n, &sum, from: 0, to: tx)
                    t = outputGradientRow(SIMD4<Float>.self, src, dst, 4 * n, &sum, from: t, to: tx)
                    t = outputGradientRow(SIMD2<Float>.self, src, dst, 4 * n, &sum, from: t, to: tx)
                    outputGradientRow(Float.self, src, dst, 4 * n, &sum, from: t, to: tx)
                }
            }
        }
        for c in 0..<6 {
            let src = UnsafePointer(scratch + c * 4 * n), dst = dm + c * xiStride
            let t = outputGradientColumn(SIMD8<Float>.self, src, n, dst, 6 * xiStride, from: 0, to: n)
            outputGradientColumn(Float.self, src, n, dst, 6 * xiStride, from: t, to: n)
        }
        return sum
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

    // MARK: The passes, generic over the lanes; each returns where it stopped

    @inline(__always) @discardableResult
    static func inputRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                       _ s: Int, from start: Int, to end: Int) -> Int {
        var t = start
        while t + L.width <= end {
            let (d0, d1, d2, d3) = L.loadQuads(src + 4 * t), (d4, d5, _, _) = L.loadQuads(src + 4 * t + 4)
            let v = bT(d0, d1, d2, d3, d4, d5)
            L.store(v.0, out + t); L.store(v.1, out + s + t); L.store(v.2, out + 2 * s + t)
            L.store(v.3, out + 3 * s + t); L.store(v.4, out + 4 * s + t); L.store(v.5, out + 5 * s + t)
            t += L.width
        }
        return t
    }

    @inline(__always) @discardableResult
    static func inputColumn<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ sIn: Int, _ out: UnsafeMutablePointer<Float>,
                                          _ s: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let v = bT(L.load(src + i), L.load(src + sIn + i), L.load(src + 2 * sIn + i),
                       L.load(src + 3 * sIn + i), L.load(src + 4 * sIn + i), L.load(src + 5 * sIn + i))
            L.store(v.0, out + i); L.store(v.1, out + s + i); L.store(v.2, out + 2 * s + i)
            L.store(v.3, out + 3 * s + i); L.store(v.4, out + 4 * s + i); L.store(v.5, out + 5 * s + i)
            i += L.width
        }
        return i
    }

    @inline(__always) @discardableResult
    static func inputGradientColumn<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ sIn: Int,
                                                  _ out: UnsafeMutablePointer<Float>, _ s: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let v = b(L.load(src + i), L.load(src + sIn + i), L.load(src + 2 * sIn + i),
                      L.load(src + 3 * sIn + i), L.load(src + 4 * sIn + i), L.load(src + 5 * sIn + i))
            L.store(v.0, out + i); L.store(v.1, out + s + i); L.store(v.2, out + 2 * s + i)
            L.store(v.3, out + 3 * s + i); L.store(v.4, out + 4 * s + i); L.store(v.5, out + 5 * s + i)
            i += L.width
        }
        return i
    }

    /// ·B^T along a row, added into the padded row: tile t's columns 0-3 at 4t, then 4-5 at
    /// 4t + 4 (where the next tile's 0-1 are; the quads' last two lanes add zero).
    @inline(__always) @discardableResult
    static func inputGradientRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ s: Int,
                                               _ dst: UnsafeMutablePointer<Float>, from start: Int, to end: Int) -> Int {
        var t = start
        while t + L.width <= end {
            let d = b(L.load(src + t), L.load(src + s + t), L.load(src + 2 * s + t),
                      L.load(src + 3 * s + t), L.load(src + 4 * s + t), L.load(src + 5 * s + t))
            let p = dst + 4 * t
            let (e0, e1, e2, e3) = L.loadQuads(p)
            L.storeQuads(e0 + d.0, e1 + d.1, e2 + d.2, e3 + d.3, p)
            let (f0, f1, f2, f3) = L.loadQuads(p + 4)
            L.storeQuads(f0 + d.4, f1 + d.5, f2, f3, p + 4)
            t += L.width
        }
        return t
    }

    @inline(__always) @discardableResult
    static func outputColumn<L: TileLanes>(_: L.Type, _ m: UnsafePointer<Float>, _ s: Int, _ out: UnsafeMutablePointer<Float>,
                                           _ sOut: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let y = aT(L.load(m + i), L.load(m + s + i), L.load(m + 2 * s + i),
                       L.load(m + 3 * s + i), L.load(m + 4 * s + i), L.load(m + 5 * s + i))
            L.store(y.0, out + i); L.store(y.1, out + sOut + i); L.store(y.2, out + 2 * sOut + i); L.store(y.3, out + 3 * sOut + i)
            i += L.width
        }
        return i
    }

    @inline(__always) @discardableResult
    static func outputRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ s: Int, _ bias: Float,
                                        _ dst: UnsafeMutablePointer<Float>, from start: Int, to end: Int) -> Int {
        var t = start
        let b = L.splat(bias)
        while t + L.width <= end {
            let y = aT(L.load(src + t), L.load(src + s + t), L.load(src + 2 * s + t),
                       L.load(src + 3 * s + t), L.load(src + 4 * s + t), L.load(src + 5 * s + t))
            L.storeQuads(y.0 + b, y.1 + b, y.2 + b, y.3 + b, dst + 4 * t)
            t += L.width
        }
        return t
    }

    @inline(__always) @discardableResult
    static func outputGradientRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                                _ s: Int, _ sum: inout Float, from start: Int, to end: Int) -> Int {
        var t = start
        while t + L.width <= end {
            let (y0, y1, y2, y3) = L.loadQuads(src + 4 * t)
            sum += ((y0 + y1) + (y2 + y3)).total
            let m = a(y0, y1, y2, y3)
            L.store(m.0, out + t); L.store(m.1, out + s + t); L.store(m.2, out + 2 * s + t)
            L.store(m.3, out + 3 * s + t); L.store(m.4, out + 4 * s + t); L.store(m.5, out + 5 * s + t)
            t += L.width
        }
        return t
    }

    @inline(__always) @discardableResult
    static func outputGradientColumn<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ sIn: Int,
                                                   _ m: UnsafeMutablePointer<Float>, _ s: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let v = a(L.load(src + i), L.load(src + sIn + i), L.load(src + 2 * sIn + i), L.load(src + 3 * sIn + i))
            L.store(v.0, m + i); L.store(v.1, m + s + i); L.store(v.2, m + 2 * s + i)
            L.store(v.3, m + 3 * s + i); L.store(v.4, m + 4 * s + i); L.store(v.5, m + 5 * s + i)
            i += L.width
        }
        return i
    }
}
