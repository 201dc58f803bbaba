/// Concatenation along channels, diffusers' `torch.cat([h, skip], dim=1)` in every up-block
/// resnet: `a` (the running h) first, then `b` (the popped skip).
///
/// No parameters. Per image the output is two contiguous copies, so the work is memcpy-bound;
/// split over images on two threads above 16 Ki floats per thread.
public enum ChannelConcat {
    /// a: (N, C1, H, W)  b: (N, C2, H, W)  out: (N, C1+C2, H, W)
    public static func forward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               n: Int, c1: Int, c2: Int, h: Int, w: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let sa = c1 * h * w, sb = c2 * h * w
        let a = SendablePointer(a), b = SendablePointer(b), out = SendablePointer(out)
        parallelChunks(n, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(sa + sb, 1))) { images in
            for i in images {
                let o = out.pointer + i * (sa + sb)
                o.update(from: a.pointer + i * sa, count: sa)
                (o + sa).update(from: b.pointer + i * sb, count: sb)
            }
        }
    }

    /// dOut: (N, C1+C2, H, W)  da: (N, C1, H, W)  db: (N, C2, H, W), added into (nil: skipped).
    public static func backward(dOut: UnsafePointer<Float>, da: UnsafeMutablePointer<Float>?,
                                db: UnsafeMutablePointer<Float>?, n: Int, c1: Int, c2: Int, h: Int, w: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let sa = c1 * h * w, sb = c2 * h * w
        let d = SendablePointer(dOut), da = da.map { SendablePointer($0) }, db = db.map { SendablePointer($0) }
        parallelChunks(n, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(sa + sb, 1))) { images in
            for i in images {
                let src = UnsafePointer(d.pointer + i * (sa + sb))
                if let da { accumulate(src, da.pointer + i * sa, count: sa) }
                if let db { accumulate(src + sa, db.pointer + i * sb, count: sb) }
            }
        }
    }

    /// x: (N, C1+C2, H, W)  a: (N, C1, H, W)  b: (N, C2, H, W), overwritten — the inverse of
    /// `forward`.
    public static func split(_ x: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                             n: Int, c1: Int, c2: Int, h: Int, w: Int, _ ws: Workspace) {
        let sa = c1 * h * w, sb = c2 * h * w
        let x = SendablePointer(x), a = SendablePointer(a), b = SendablePointer(b)
        parallelChunks(n, threads: ws.threads, minimumPerThread: max(1, (1 << 14) / max(sa + sb, 1))) { images in
            for i in images {
                let src = UnsafePointer(x.pointer + i * (sa + sb))
                (a.pointer + i * sa).update(from: src, count: sa)
                (b.pointer + i * sb).update(from: src + sa, count: sb)
            }
        }
    }

    /// y += x on one thread (the caller already split the work).
    @inline(__always)
    static func accumulate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { y.store8(y.load8(i) + x.load8(i), i); i += 8 }
        while i < count { y[i] += x[i]; i += 1 }
    }
}
