/// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016): a 3x3 stride-1 convolution computes each 2x2 output tile from a 4x4
/// input tile with 16 multiplies per (input, output) channel pair instead of 36:
///
///     Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
///
///     B^T = | 1  0 -1  0 |     G = | 1    0    0  |     A^T = | 1  1  1  0 |
///           | 0  1  1  0 |         | 1/2  1/2  1/2|           | 0  1 -1 -1 |
///           | 0 -1  1  0 |         | 1/2 -1/2  1/2|
///           | 0  1  0 -1 |         | 0    0    1  |
///
/// Summed over input channels, the ⊙ becomes 16 independent GEMMs, one per position ξ of the
/// 4x4 transformed tile: M[ξ] (OC, P) = U[ξ] (OC, C) · V[ξ] (C, P) for P tiles. The backward
/// pass is the exact adjoint of every step (its gradients are those of the forward as
/// computed), with two more sets of 16 GEMMs: dU[ξ] += dM[ξ] · V[ξ]^T and dV[ξ] = U[ξ]^T · dM[ξ].
///
/// Layouts: U and dU are (16, OC, C); V and dV are (16, C, P) and M and dM (16, OC, P), each
/// with row stride P. A plane's tiles are numbered row by row (tile (ty, tx) is ty * W/2 + tx).
/// The plane functions take a pointer to the plane's first tile at ξ = 0 and `xiStride`, the
/// distance from ξ to ξ + 1 (C * P or OC * P). Planes have even height and width; the padding
/// is 1 (the convolution keeps the size). The plane transforms' lanes are neighbouring tiles
/// (see "The plane transforms" below); `WinogradF4x3`'s are images.
public enum WinogradF2x3: WinogradVariant {
    public static let outputTile = 2
    public static let points = 16

    public static func applies(height: Int, width: Int) -> Bool {
        height > 0 && width > 0 && height % 2 == 0 && width % 2 == 0
    }

    public static func tiles(height: Int, width: Int) -> Int { (height / 2) * (width / 2) }

    /// The zero-bordered plane and 16 rows of one value per tile of the planes.
    public static func scratchFloats(height: Int, width: Int, planes: Int) -> Int {
        (height + 2) * (width + 2) + 16 * planes * tiles(height: height, width: width)
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
        // G g (4x3) column by column, then each of its rows times G^T.
        let c0 = gMul(tap(0), tap(3), tap(6)), c1 = gMul(tap(1), tap(4), tap(7)), c2 = gMul(tap(2), tap(5), tap(8))
        func row(_ i: Int, _ a: L, _ b: L, _ c: L) {
            let v = gMul(a, b, c), base = u + i * 4 * filters + q
            L.store(v.0, base); L.store(v.1, base + filters); L.store(v.2, base + 2 * filters); L.store(v.3, base + 3 * filters)
        }
        row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2); row(3, c0.3, c1.3, c2.3)
    }

    @inline(__always)
    static func weightGradient<L: TileLanes>(_: L.Type, _ du: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                                             _ q: Int, _ filters: Int) {
        // Each row of dU times G (three values), then G^T combines the four rows, column by column.
        func row(_ i: Int) -> (L, L, L) {
            let x = du + i * 4 * filters + q
            return gTMul(L.load(x), L.load(x + filters), L.load(x + 2 * filters), L.load(x + 3 * filters))
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
        let g = dw + q * 9
        func add(_ column: Int, _ v: (L, L, L)) {
            let p = g + column
            L.store(L.load(p, stride: 9) + v.0, p, stride: 9)
            L.store(L.load(p + 3, stride: 9) + v.1, p + 3, stride: 9)
            L.store(L.load(p + 6, stride: 9) + v.2, p + 6, stride: 9)
        }
        add(0, gTMul(r0.0, r1.0, r2.0, r3.0))
        add(1, gTMul(r0.1, r1.1, r2.1, r3.1))
        add(2, gTMul(r0.2, r1.2, r2.2, r3.2))
    }

    /// G·(g0, g1, g2).
    @inline(__always)
    static func gMul<L: TileLanes>(_ g0: L, _ g1: L, _ g2: L) -> (L, L, L, L) {
        let sum = g0 + g2
        return (g0, (sum + g1).times(0.5), (sum - g1).times(0.5), g2)
    }

    /// G^T·(x0...x3), the adjoint of `gMul`.
    @inline(__always)
    static func gTMul<L: TileLanes>(_ x0: L, _ x1: L, _ x2: L, _ x3: L) -> (L, L, L) {
        let half = (x1 + x2).times(0.5)
        return (x0 + half, (x1 - x2).times(0.5), half + x3)
    }

    // MARK: The plane transforms
    //
    // Each transforms the same channel's planes of `planes` images at once (plane i at
    // x + i * planeStride; its tiles at i * tiles + tile in the (ξ, ·, P) layout) in two
    // passes whose inner loops run over neighbouring tiles with unit stride: a pass along the
    // rows (lanes = neighbouring tiles of a tile row; a tile's two pixels split into even and
    // odd), plane by plane, and a pass down the columns (lanes = any run of tiles) over all the
    // planes' tiles at once, through scratch rows of n = planes x tiles floats. Every pass is
    // generic over `TileLanes` and runs at widths 8, 4 and 1.

    /// V[ξ, tile] = (B^T d B)[ξ] for every tile of the planes.
    public static func transformInput(_ x: UnsafePointer<Float>, planes: Int, planeStride: Int, height h: Int, width w: Int,
                                      _ v: UnsafeMutablePointer<Float>, xiStride: Int, scratch: UnsafeMutablePointer<Float>) {
        let pw = w + 2, tx = w / 2, ty = h / 2, tiles = tx * ty, n = planes * tiles
        let padded = scratch, rows = scratch + (h + 2) * pw
        padded.update(repeating: 0, count: (h + 2) * pw)  // the border stays zero, the inside is each plane's
        for i in 0..<planes {
            copyInside(x + i * planeStride, height: h, width: w, padded)
            // Along each padded row, d·B: rows[(c * 4 + r) * n + tile] is column c of the tile's row r.
            // Padded row y is row y % 2 of tile row y / 2 and row y % 2 + 2 of the tile row above.
            for y in 0..<(h + 2) {
                for above in 0..<2 {
                    let tileRow = y / 2 - above, r = y % 2 + 2 * above
                    if tileRow < 0 || tileRow >= ty { continue }
                    let out = rows + r * n + i * tiles + tileRow * tx, src = UnsafePointer(padded + y * pw)
                    var t = inputRow(SIMD8<Float>.self, src, out, 4 * n, from: 0, to: tx)
                    t = inputRow(SIMD4<Float>.self, src, out, 4 * n, from: t, to: tx)
                    inputRow(Float.self, src, out, 4 * n, from: t, to: tx)
                }
            }
        }
        // Down each column c, B^T·: V[r' * 4 + c] from the tile's rows r = 0...3.
        for c in 0..<4 {
            let src = UnsafePointer(rows + c * 4 * n), out = v + c * xiStride
            let t = inputColumn(SIMD8<Float>.self, src, n, out, 4 * xiStride, from: 0, to: n)
            inputColumn(Float.self, src, n, out, 4 * xiStride, from: t, to: n)
        }
    }

    /// dx += the adjoint of `transformInput`: B dV B^T of every tile, summed where the 4x4
    /// tiles overlap, the padding border dropped.
    public static func addInputGradient(_ dv: UnsafePointer<Float>, xiStride: Int, _ dx: UnsafeMutablePointer<Float>,
                                        planes: Int, planeStride: Int, height h: Int, width w: Int,
                                        scratch: UnsafeMutablePointer<Float>) {
        let pw = w + 2, tx = w / 2, ty = h / 2, tiles = tx * ty, n = planes * tiles
        let padded = scratch, rows = scratch + (h + 2) * pw
        // Down each column c, B·: rows[(c * 4 + r) * n + tile].
        for c in 0..<4 {
            let src = dv + c * xiStride, out = rows + c * 4 * n
            let t = inputGradientColumn(SIMD8<Float>.self, src, 4 * xiStride, out, n, from: 0, to: n)
            inputGradientColumn(Float.self, src, 4 * xiStride, out, n, from: t, to: n)
        }
        // Along each row, ·B^T, added into the zero-bordered plane where the tiles overlap.
        for i in 0..<planes {
            padded.update(repeating: 0, count: (h + 2) * pw)
            for tileRow in 0..<ty {
                for r in 0..<4 {
                    let dst = padded + (2 * tileRow + r) * pw, src = UnsafePointer(rows + r * n + i * tiles + tileRow * tx)
                    var t = inputGradientRow(SIMD8<Float>.self, src, 4 * n, dst, from: 0, to: tx)
                    t = inputGradientRow(SIMD4<Float>.self, src, 4 * n, dst, from: t, to: tx)
                    inputGradientRow(Float.self, src, 4 * n, dst, from: t, to: tx)
                }
            }
            addInside(padded, height: h, width: w, to: dx + i * planeStride)
        }
    }

    /// out = A^T M A + bias for every tile of the planes.
    public static func transformOutput(_ m: UnsafePointer<Float>, xiStride: Int, bias: Float,
                                       _ out: UnsafeMutablePointer<Float>, planes: Int, planeStride: Int,
                                       height h: Int, width w: Int, scratch: UnsafeMutablePointer<Float>) {
        let tx = w / 2, ty = h / 2, tiles = tx * ty, n = planes * tiles
        // Down each column c, A^T·: scratch[(c * 2 + a) * n + tile] for output row a.
        for c in 0..<4 {
            let src = m + c * xiStride, dst = scratch + c * 2 * n
            let t = outputColumn(SIMD8<Float>.self, src, 4 * xiStride, dst, n, from: 0, to: n)
            outputColumn(Float.self, src, 4 * xiStride, dst, n, from: t, to: n)
        }
        // Along each row, ·A, plus the bias, into the 2x2 output tiles.
        for i in 0..<planes {
            for tileRow in 0..<ty {
                for a in 0..<2 {
                    let dst = out + i * planeStride + (2 * tileRow + a) * w
                    let src = UnsafePointer(scratch + a * n + i * tiles + tileRow * tx)
                    var t = outputRow(SIMD8<Float>.self, src, 2 * n, bias, dst, from: 0, to: tx)
                    t = outputRow(SIMD4<Float>.self, src, 2 * n, bias, dst, from: t, to: tx)
                    outputRow(Float.self, src, 2 * n, bias, dst, from: t, to: tx)
                }
            }
        }
    }

    /// dM[ξ, tile] = (A dY A^T)[ξ] for every tile of the dOut planes: the adjoint of
    /// `transformOutput`. Returns the sum of dOut (the bias gradient).
    @discardableResult
    public static func transformOutputGradient(_ dy: UnsafePointer<Float>, planes: Int, planeStride: Int, height h: Int,
                                               width w: Int, _ dm: UnsafeMutablePointer<Float>, xiStride: Int,
                                               scratch: UnsafeMutablePointer<Float>) -> Float {
        let tx = w / 2, ty = h / 2, tiles = tx * ty, n = planes * tiles
        // Along each row a of dOut, ·A^T: scratch[(c * 2 + a) * n + tile].
        var sum: Float = 0
        for i in 0..<planes {
            for tileRow in 0..<ty {
                for a in 0..<2 {
                    let src = dy + i * planeStride + (2 * tileRow + a) * w, dst = scratch + a * n + i * tiles + tileRow * tx
                    var t = outputGradientRow(SIMD8<Float>.self, src, dst, 2 * n, &sum, from: 0, to: tx)
                    t = outputGradientRow(SIMD4<Float>.self, src, dst, 2 * n, &sum, from: t, to: tx)
                    outputGradientRow(Float.self, src, dst, 2 * n, &sum, from: t, to: tx)
                }
            }
        }
        // Down each column c, A·.
        for c in 0..<4 {
            let src = UnsafePointer(scratch + c * 2 * n), dst = dm + c * xiStride
            let t = outputGradientColumn(SIMD8<Float>.self, src, n, dst, 4 * xiStride, from: 0, to: n)
            outputGradientColumn(Float.self, src, n, dst, 4 * xiStride, from: t, to: n)
        }
        return sum
    }

    // MARK: The zero-bordered plane ((H + 2) x (W + 2), the plane inside at row 1, column 1)

    /// Copies the plane x (H, W) inside the padded plane (its border is left as it is).
    private static func copyInside(_ x: UnsafePointer<Float>, height h: Int, width w: Int, _ padded: UnsafeMutablePointer<Float>) {
        for y in 0..<h {
            let src = x + y * w, dst = padded + (y + 1) * (w + 2) + 1
            var i = 0
            while i + 8 <= w { dst.store8(src.load8(i), i); i += 8 }
            while i < w { dst[i] = src[i]; i += 1 }
        }
    }

    /// dx (H, W) += the inside of the padded plane.
    private static func addInside(_ padded: UnsafeMutablePointer<Float>, height h: Int, width w: Int, to dx: UnsafeMutablePointer<Float>) {
        for y in 0..<h {
            let src = padded + (y + 1) * (w + 2) + 1, out = dx + y * w
            var i = 0
            while i + 8 <= w { out.store8(out.load8(i) + src.load8(i), i); i += 8 }
            while i < w { out[i] += src[i]; i += 1 }
        }
    }

    // MARK: The passes, generic over the lanes; each returns where it stopped

    /// d·B along a padded row: tile t's four columns to out[t], out[s + t], out[2s + t], out[3s + t].
    @inline(__always) @discardableResult
    static func inputRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                       _ s: Int, from start: Int, to end: Int) -> Int {
        var t = start
        while t + L.width <= end {
            let (d0, d1) = L.loadPairs(src + 2 * t), (d2, d3) = L.loadPairs(src + 2 * t + 2)
            L.store(d0 - d2, out + t); L.store(d1 + d2, out + s + t)
            L.store(d2 - d1, out + 2 * s + t); L.store(d1 - d3, out + 3 * s + t)
            t += L.width
        }
        return t
    }

    /// B^T· down a column: rows src[i], src[s + i], ... to out[i], out[s + i], ...
    @inline(__always) @discardableResult
    static func inputColumn<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ sIn: Int, _ out: UnsafeMutablePointer<Float>,
                                          _ s: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let a = L.load(src + i), b = L.load(src + sIn + i), c = L.load(src + 2 * sIn + i), d = L.load(src + 3 * sIn + i)
            L.store(a - c, out + i); L.store(b + c, out + s + i); L.store(c - b, out + 2 * s + i); L.store(b - d, out + 3 * s + i)
            i += L.width
        }
        return i
    }

    /// B· down a column (the adjoint of `inputColumn`).
    @inline(__always) @discardableResult
    static func inputGradientColumn<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ sIn: Int,
                                                  _ out: UnsafeMutablePointer<Float>, _ s: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let a = L.load(src + i), b = L.load(src + sIn + i), c = L.load(src + 2 * sIn + i), d = L.load(src + 3 * sIn + i)
            L.store(a, out + i); L.store(b - c + d, out + s + i); L.store(b + c - a, out + 2 * s + i); L.store(L.zero - d, out + 3 * s + i)
            i += L.width
        }
        return i
    }

    /// ·B^T along a row (the adjoint of `inputRow`), added into the padded row `dst`: tile t's
    /// columns 0-1 at 2t, then 2-3 at 2t + 2 (where the next tile's 0-1 are).
    @inline(__always) @discardableResult
    static func inputGradientRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ s: Int,
                                               _ dst: UnsafeMutablePointer<Float>, from start: Int, to end: Int) -> Int {
        var t = start
        while t + L.width <= end {
            let a = L.load(src + t), b = L.load(src + s + t), c = L.load(src + 2 * s + t), d = L.load(src + 3 * s + t)
            let (e0, o0) = L.loadPairs(dst + 2 * t)
            L.storePairs(e0 + a, o0 + (b - c + d), dst + 2 * t)
            let (e1, o1) = L.loadPairs(dst + 2 * t + 2)
            L.storePairs(e1 + (b + c - a), o1 - d, dst + 2 * t + 2)
            t += L.width
        }
        return t
    }

    /// A^T· down a column: rows m[i], m[s + i], m[2s + i], m[3s + i] to out[i], out[sOut + i].
    @inline(__always) @discardableResult
    static func outputColumn<L: TileLanes>(_: L.Type, _ m: UnsafePointer<Float>, _ s: Int, _ out: UnsafeMutablePointer<Float>,
                                           _ sOut: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let a = L.load(m + i), b = L.load(m + s + i), c = L.load(m + 2 * s + i), d = L.load(m + 3 * s + i)
            L.store(a + b + c, out + i); L.store(b - c - d, out + sOut + i)
            i += L.width
        }
        return i
    }

    /// ·A along a row plus the bias: tile t's two pixels at dst[2t], dst[2t + 1].
    @inline(__always) @discardableResult
    static func outputRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ s: Int, _ bias: Float,
                                        _ dst: UnsafeMutablePointer<Float>, from start: Int, to end: Int) -> Int {
        var t = start
        let b = L.splat(bias)
        while t + L.width <= end {
            let c0 = L.load(src + t), c1 = L.load(src + s + t), c2 = L.load(src + 2 * s + t), c3 = L.load(src + 3 * s + t)
            L.storePairs(c0 + c1 + c2 + b, c1 - c2 - c3 + b, dst + 2 * t)
            t += L.width
        }
        return t
    }

    /// ·A^T along a row of dOut (the adjoint of `outputRow`), adding the row's values to `sum`.
    @inline(__always) @discardableResult
    static func outputGradientRow<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                                _ s: Int, _ sum: inout Float, from start: Int, to end: Int) -> Int {
        var t = start
        while t + L.width <= end {
            let (y0, y1) = L.loadPairs(src + 2 * t)
            sum += (y0 + y1).total
            L.store(y0, out + t); L.store(y0 + y1, out + s + t); L.store(y0 - y1, out + 2 * s + t); L.store(L.zero - y1, out + 3 * s + t)
            t += L.width
        }
        return t
    }

    /// A· down a column (the adjoint of `outputColumn`).
    @inline(__always) @discardableResult
    static func outputGradientColumn<L: TileLanes>(_: L.Type, _ src: UnsafePointer<Float>, _ sIn: Int,
                                                   _ m: UnsafeMutablePointer<Float>, _ s: Int, from start: Int, to end: Int) -> Int {
        var i = start
        while i + L.width <= end {
            let a = L.load(src + i), b = L.load(src + sIn + i)
            L.store(a, m + i); L.store(a + b, m + s + i); L.store(a - b, m + 2 * s + i); L.store(L.zero - b, m + 3 * s + i)
            i += L.width
        }
        return i
    }
}
