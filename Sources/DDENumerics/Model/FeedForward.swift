/// diffusers' `FeedForward` with `activation_fn = "geglu"`, `mult = 4`, no dropout (SD's
/// transformer blocks): `net.2(geglu(net.0.proj(x)))`.
///
///     x (R, D) -> net.0.proj -> (R, 2I) -> GEGLU gate -> (R, I) -> net.2 -> (R, D),  I = 4D
public final class FeedForward: @unchecked Sendable {
    public let dimension: Int
    public let inner: Int
    public let projection: Linear
    public let output: Linear

    let projected = FloatBuffer(count: 0)   // (R, 2I); the gate's output (R, I) is never kept
    var rows = 0

    public init(_ store: ParameterStore, _ name: String, dimension: Int, multiplier: Int = 4) {
        self.dimension = dimension
        inner = dimension * multiplier
        projection = Linear(store, "\(name).net.0.proj", inFeatures: dimension, outFeatures: 2 * inner)
        output = Linear(store, "\(name).net.2", inFeatures: inner, outFeatures: dimension)
    }

    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        projection.initialize(store, &rng)
        output.initialize(store, &rng)
    }

    /// x: (R, D)  out: (R, D), written. The gate's output goes to the workspace's
    /// `TransformerScratch` (backward recomputes it from the projection, the same bits);
    /// `keepActivations: false`: the projection too.
    public func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int,
                        _ store: ParameterStore, _ ws: Workspace, keepActivations: Bool = true) {
        self.rows = rows
        let scratch = keepActivations ? nil : ws.transformerScratch
        let p = (scratch?.projected ?? projected).reserve(rows * 2 * inner), g = ws.transformerScratch.gated.reserve(rows * inner)
        projection.forward(x, p, n: rows, store, ws)
        GEGLU.forward(p, g, rows: rows, inner: inner, ws)
        output.forward(g, out, n: rows, store, ws)
    }

    /// dOut: (R, D)  x: the forward's input  dx: (R, D), added into
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                         _ store: ParameterStore, _ ws: Workspace) {
        let dGated = ws.feedForwardGradients.0.reserve(rows * inner)
        let dProjected = ws.feedForwardGradients.1.reserve(rows * 2 * inner)
        dGated.update(repeating: 0, count: rows * inner)
        let gated = ws.transformerScratch.gated.reserve(rows * inner)
        GEGLU.forward(projected.pointer, gated, rows: rows, inner: inner, ws)
        output.backward(dOut: dOut, x: gated, dx: dGated, n: rows, store, ws)
        dProjected.update(repeating: 0, count: rows * 2 * inner)
        GEGLU.backward(dOut: dGated, x: projected.pointer, dx: dProjected, rows: rows, inner: inner, ws)
        projection.backward(dOut: dProjected, x: x, dx: dx, n: rows, store, ws)
    }
}
