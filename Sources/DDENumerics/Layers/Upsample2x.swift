/// Nearest-neighbour upsampling by 2, PyTorch's `F.interpolate(x, scale_factor=2.0,
/// mode="nearest")` as diffusers' `Upsample2D` calls it before its 3x3 conv:
/// `out[n, c, i, j] = x[n, c, i/2, j/2]` (PyTorch's nearest source index is
/// `floor(dst * in/out)`, which for an exact factor 2 is `dst / 2`).
///
/// No parameters. Work is split over the N*C planes on two threads above 16 Ki output floats
/// per thread.
public enum Upsample2x {
    /// x: (N, C, H, W)  out: (N, C, 2H, 2W)
    public static func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               n: Int, c: Int, h: Int, w: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let xs = SendablePointer(x), outs = SendablePointer(out)
        let plane = h * w, ow = 2 * w
        parallelChunks(n * c, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(4 * plane, 1))) { planes in
            for p in planes {
                let src = UnsafePointer(xs.pointer + p * plane), dst = outs.pointer + p * 4 * plane
                for i in 0..<h {
                    let row = src + i * w, top = dst + 2 * i * ow
                    for j in 0..<w {
                        top[2 * j] = row[j]
                        top[2 * j + 1] = row[j]
                    }
                    (top + ow).update(from: top, count: ow)
                }
            }
        }
    }

    /// dOut: (N, C, 2H, 2W)  dx: (N, C, H, W), added into — each x gets the sum of its 2x2 block.
    public static func backward(dOut: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                n: Int, c: Int, h: Int, w: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let ds = SendablePointer(dOut), dxs = SendablePointer(dx)
        let plane = h * w, ow = 2 * w
        parallelChunks(n * c, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(4 * plane, 1))) { planes in
            for p in planes {
                let src = UnsafePointer(ds.pointer + p * 4 * plane), dst = dxs.pointer + p * plane
                for i in 0..<h {
                    let top = src + 2 * i * ow, bottom = top + ow, row = dst + i * w
                    for j in 0..<w {
                        row[j] += (top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1])
                    }
                }
            }
        }
    }
}
