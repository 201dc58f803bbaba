/// An elementwise activation given by its value and derivative, in scalar and eight-lane forms
/// that perform the same operations in the same order (bit-identical results). The forward and
/// backward loops are written once, here: eight lanes at a time, the rest scalar, on the
/// workspace's threads above 16 Ki floats a thread. `@inlinable` and called on a concrete type
/// (`SiLU.forward`), they are specialised, so `value` inlines into the loop. `SendableMetatype`:
/// the threads' closures call the type's static functions (Swift 6 warns otherwise).
public protocol PointwiseActivation: SendableMetatype {
    static func value(_ v: Float) -> Float
    static func value(_ v: SIMD8<Float>) -> SIMD8<Float>
    static func derivative(_ v: Float) -> Float
    static func derivative(_ v: SIMD8<Float>) -> SIMD8<Float>
}

extension PointwiseActivation {
    /// x: (count)  out: (count) — out = f(x); in place (`out == x`) is allowed.
    @inlinable
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
    /// dx += dOut * f'(x); in place (`dx == dOut`) is allowed.
    @inlinable
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
