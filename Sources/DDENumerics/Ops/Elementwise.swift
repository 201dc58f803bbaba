/// Small elementwise `Float` kernels over unsafe pointers, on two threads above
/// `parallelChunks`'s threshold (16 Ki floats per thread).
///
/// Each loop is eight lanes at a time (`SIMD8`, see `SIMD8.swift`) plus a scalar tail, so it
/// vectorises whether or not the output aliases an input. Outputs may alias inputs exactly
/// (`out == a`) but must not partially overlap them.
public enum Elementwise {
    /// out = a + b
    @inlinable
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           _ out: UnsafeMutablePointer<Float>, count: Int, _ ws: Workspace) {
        let a = SendablePointer(a), b = SendablePointer(b), out = SendablePointer(out)
        parallelChunks(count, threads: ws.threads) { range in
            let a = a.pointer, b = b.pointer, o = out.pointer
            var i = range.lowerBound
            while i + 8 <= range.upperBound { o.store8(a.load8(i) + b.load8(i), i); i += 8 }
            while i < range.upperBound { o[i] = a[i] + b[i]; i += 1 }
        }
    }

    /// y += x
    @inlinable
    public static func accumulate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let x = SendablePointer(x), y = SendablePointer(y)
        parallelChunks(count, threads: ws.threads) { range in
            let x = x.pointer, y = y.pointer
            var i = range.lowerBound
            while i + 8 <= range.upperBound { y.store8(y.load8(i) + x.load8(i), i); i += 8 }
            while i < range.upperBound { y[i] += x[i]; i += 1 }
        }
    }

    /// y += alpha * x
    @inlinable
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ ws: Workspace) {
        let x = SendablePointer(x), y = SendablePointer(y)
        parallelChunks(count, threads: ws.threads) { range in
            let x = x.pointer, y = y.pointer
            var i = range.lowerBound
            while i + 8 <= range.upperBound { y.store8(y.load8(i) + alpha * x.load8(i), i); i += 8 }
            while i < range.upperBound { y[i] += alpha * x[i]; i += 1 }
        }
    }

    /// x *= alpha
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int, _ ws: Workspace) {
        let x = SendablePointer(x)
        parallelChunks(count, threads: ws.threads) { range in
            let x = x.pointer
            var i = range.lowerBound
            while i + 8 <= range.upperBound { x.store8(alpha * x.load8(i), i); i += 8 }
            while i < range.upperBound { x[i] *= alpha; i += 1 }
        }
    }

    /// x = value
    @inlinable
    public static func fill(_ x: UnsafeMutablePointer<Float>, with value: Float, count: Int, _ ws: Workspace) {
        let x = SendablePointer(x)
        parallelChunks(count, threads: ws.threads) { range in
            (x.pointer + range.lowerBound).update(repeating: value, count: range.count)
        }
    }

    /// y = x (the buffers must not overlap)
    @inlinable
    public static func copy(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int, _ ws: Workspace) {
        let x = SendablePointer(x), y = SendablePointer(y)
        parallelChunks(count, threads: ws.threads) { range in
            (y.pointer + range.lowerBound).update(from: x.pointer + range.lowerBound, count: range.count)
        }
    }
}
