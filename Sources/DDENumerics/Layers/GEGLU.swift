/// The gate of diffusers' `GEGLU` (the first half of `FeedForward` with
/// `activation_fn = "geglu"`, SD's transformer blocks), without its projection: the projection's
/// output `(R, 2I)` is split along the last dimension into `hidden` (first I) and `gate` (last I),
/// and `out = hidden * gelu(gate)`, exact GELU (`GELU`).
///
/// Rows split over the workspace's threads. `out` may not alias `x`.
public enum GEGLU {
    /// x: (R, 2I)  out: (R, I)
    public static func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, inner: Int,
                               _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let x = SendablePointer(x), out = SendablePointer(out)
        parallelChunks(rows, threads: ws.threads, minimumPerThread: max(1, (1 << 13) / max(inner, 1))) { range in
            for r in range {
                let hidden = x.pointer + r * 2 * inner, gate = hidden + inner, o = out.pointer + r * inner
                var i = 0
                while i + 8 <= inner { o.store8(hidden.load8(i) * GELU.value(gate.load8(i)), i); i += 8 }
                while i < inner { o[i] = hidden[i] * GELU.value(gate[i]); i += 1 }
            }
        }
    }

    /// dOut: (R, I)  x: the forward's input (R, 2I)  dx: (R, 2I), added into —
    /// d hidden += dOut * gelu(gate),  d gate += dOut * hidden * gelu'(gate)
    public static func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                rows: Int, inner: Int, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.elementwise, profile) }
        let d = SendablePointer(dOut), x = SendablePointer(x), dx = SendablePointer(dx)
        parallelChunks(rows, threads: ws.threads, minimumPerThread: max(1, (1 << 13) / max(inner, 1))) { range in
            for r in range {
                let hidden = x.pointer + r * 2 * inner, gate = hidden + inner, g = d.pointer + r * inner
                let dHidden = dx.pointer + r * 2 * inner, dGate = dHidden + inner
                var i = 0
                while i + 8 <= inner {
                    let (value, slope) = GELU.valueAndDerivative(gate.load8(i)), go = g.load8(i)
                    dHidden.store8(dHidden.load8(i) + go * value, i)
                    dGate.store8(dGate.load8(i) + go * hidden.load8(i) * slope, i)
                    i += 8
                }
                while i < inner {
                    let (value, slope) = GELU.valueAndDerivative(gate[i])
                    dHidden[i] += g[i] * value
                    dGate[i] += g[i] * hidden[i] * slope
                    i += 1
                }
            }
        }
    }
}
