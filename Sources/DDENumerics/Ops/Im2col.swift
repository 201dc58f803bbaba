/// The column matrix of a convolution and its adjoint, over a chunk of images.
///
/// Layout: `col[r, i * HWo + oy * Wo + ox]` with row `r = (c * K + ky) * K + kx`, so that
/// `out(OC, nb*HWo) = W(OC, C*K*K) · col` is one GEMM for `nb` images at once (wide N keeps
/// OpenBLAS near its peak; one image's 16x16 = 256 columns would not).
public struct ConvGeometry: Sendable, Equatable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Rows of the column matrix: C * K * K.
    public var rows: Int { channels * kernel * kernel }
    public var outPixels: Int { outHeight * outWidth }
    public var inPixels: Int { height * width }
    /// True for a 1x1 stride-1 unpadded conv, whose column matrix is the input itself.
    public var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
}

public enum Im2col {
    /// Fills `col` (rows x nb*HWo) from `nb` images `x` (nb, C, H, W), on the calling thread.
    public static func forwardSerial(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>,
                                     images nb: Int, _ g: ConvGeometry) {
        for r in 0..<g.rows { fillRow(UnsafeMutablePointer(mutating: x), col, row: r, images: nb, g) }
    }

    /// Adds `dcol` back into `dx` (nb, C, H, W), on the calling thread.
    public static func backwardSerial(_ dcol: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                      images nb: Int, _ g: ConvGeometry) {
        for r in 0..<g.rows { addRow(UnsafeMutablePointer(mutating: dcol), dx, row: r, images: nb, g) }
    }

    /// Fills `col` (rows x nb*HWo) from `nb` images `x` (nb, C, H, W).
    /// Rows are split across threads; each writes its own rows only.
    public static func forward(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>,
                               images nb: Int, _ g: ConvGeometry, _ ws: Workspace) {
        let xs = SendablePointer(x), cs = SendablePointer(col)
        let work = g.rows * nb * g.outPixels
        parallelChunks(g.rows, threads: ws.threads, minimumPerThread: work >= 1 << 16 ? 1 : Int.max) { rows in
            for r in rows { fillRow(xs.pointer, cs.pointer, row: r, images: nb, g) }
        }
    }

    @inline(__always)
    static func fillRow(_ x: UnsafeMutablePointer<Float>, _ col: UnsafeMutablePointer<Float>,
                        row r: Int, images nb: Int, _ g: ConvGeometry) {
        let k = g.kernel, kk = k * k
        let c = r / kk, ky = (r % kk) / k, kx = r % k
        let ho = g.outHeight, wo = g.outWidth, h = g.height, w = g.width
        let s = g.stride, p = g.padding
        let columns = nb * ho * wo
        let dstRow = col + r * columns
        // Valid output-x range: 0 <= ox*s - p + kx < w.
        let oxLo = max(0, (p - kx + s - 1) / s)
        let oxHi = min(wo, (w - 1 + p - kx) / s + 1)  // exclusive
        for i in 0..<nb {
            let src = x + (i * g.channels + c) * h * w
            let dstImage = dstRow + i * ho * wo
            for oy in 0..<ho {
                let iy = oy * s - p + ky
                let dst = dstImage + oy * wo
                if iy < 0 || iy >= h || oxLo >= oxHi {
                    dst.update(repeating: 0, count: wo)
                    continue
                }
                let srcRow = src + iy * w - p + kx
                for ox in 0..<oxLo { dst[ox] = 0 }
                if s == 1 {
                    (dst + oxLo).update(from: srcRow + oxLo, count: oxHi - oxLo)
                } else {
                    for ox in oxLo..<oxHi { dst[ox] = srcRow[ox * s] }
                }
                for ox in oxHi..<wo { dst[ox] = 0 }
            }
        }
    }

    /// Adds the column-matrix gradient `dcol` back into `dx` (nb, C, H, W): the adjoint of
    /// `forward`. Split across threads by channel, so no two threads add into one element.
    public static func backward(_ dcol: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                images nb: Int, _ g: ConvGeometry, _ ws: Workspace) {
        let ds = SendablePointer(dcol), xs = SendablePointer(dx)
        let work = g.rows * nb * g.outPixels
        parallelChunks(g.channels, threads: ws.threads, minimumPerThread: work >= 1 << 16 ? 1 : Int.max) { channels in
            let kk = g.kernel * g.kernel
            for c in channels {
                for r in (c * kk)..<((c + 1) * kk) { addRow(ds.pointer, xs.pointer, row: r, images: nb, g) }
            }
        }
    }

    @inline(__always)
    static func addRow(_ dcol: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                       row r: Int, images nb: Int, _ g: ConvGeometry) {
        let k = g.kernel, kk = k * k
        let c = r / kk, ky = (r % kk) / k, kx = r % k
        let ho = g.outHeight, wo = g.outWidth, h = g.height, w = g.width
        let s = g.stride, p = g.padding
        let srcRow = dcol + r * nb * ho * wo
        let oxLo = max(0, (p - kx + s - 1) / s)
        let oxHi = min(wo, (w - 1 + p - kx) / s + 1)
        if oxLo >= oxHi { return }
        for i in 0..<nb {
            let dst = dx + (i * g.channels + c) * h * w
            let srcImage = srcRow + i * ho * wo
            for oy in 0..<ho {
                let iy = oy * s - p + ky
                if iy < 0 || iy >= h { continue }
                let d = dst + iy * w - p + kx
                let src = srcImage + oy * wo
                if s == 1 {
                    for ox in oxLo..<oxHi { d[ox] += src[ox] }
                } else {
                    for ox in oxLo..<oxHi { d[ox * s] += src[ox] }
                }
            }
        }
    }
}
