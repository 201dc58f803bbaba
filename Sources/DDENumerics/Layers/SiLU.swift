/// SiLU (swish): `silu(x) = x * sigmoid(x) = x / (1 + exp(-x))`, PyTorch's `F.silu`, the
/// activation of every diffusers ResnetBlock2D, of the time embedding and before `conv_out`.
///
/// Elementwise over `count` floats (any shape), eight lanes at a time with `FastMath.exp`
/// (about 1 ulp), on two threads above 16 Ki floats per thread. In place is allowed
/// (`out == x`, `dx == dOut`).
public enum SiLU {
    /// silu(v)
    @inlinable @inline(__always)
    public static func value(_ v: Float) -> Float { v / (1 + FastMath.exp(-v)) }

    @inlinable @inline(__always)
    public static func value(_ v: SIMD8<Float>) -> SIMD8<Float> { v / (1 + FastMath.exp(-v)) }

    /// silu'(v) = s (1 + v (1 - s)),  s = sigmoid(v)
    @inlinable @inline(__always)
    public static func derivative(_ v: Float) -> Float {
        let s = 1 / (1 + FastMath.exp(-v))
        return s * (1 + v * (1 - s))
    }

    @inlinable @inline(__always)
    public static func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let s = 1 / (1 + FastMath.exp(-v))
        return s * (1 + v * (1 - s))
    }

    /// x: (count)  out: (count) — out = silu(x)
    public static func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let x = SendablePointer(x), out = SendablePointer(out)
        parallelChunks(count, threads: ws.threads) { range in
            let x = x.pointer, o = out.pointer
            var i = range.lowerBound
            while i + 8 <= range.upperBound { o.store8(value(x.load8(i)), i); i += 8 }
            while i < range.upperBound { o[i] = value(x[i]); i += 1 }
        }
    }

    /// dOut: (count)  x: (count), the forward's input  dx: (count), added into —
    /// dx += dOut * silu'(x)
    public static func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>, count: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let d = SendablePointer(dOut), x = SendablePointer(x), dx = SendablePointer(dx)
        parallelChunks(count, threads: ws.threads) { range in
            let d = d.pointer, x = x.pointer, g = dx.pointer
            var i = range.lowerBound
            while i + 8 <= range.upperBound { g.store8(g.load8(i) + d.load8(i) * derivative(x.load8(i)), i); i += 8 }
            while i < range.upperBound { g[i] += d[i] * derivative(x[i]); i += 1 }
        }
    }
}
