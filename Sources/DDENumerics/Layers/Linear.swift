/// A fully connected layer, PyTorch layout: `weight` is `(OUT, IN)`, `bias` is `(OUT)`.
public struct Linear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: ParameterSlot
    public let bias: ParameterSlot?

    public init(_ store: ParameterStore, _ name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = store.add("\(name).weight", [outFeatures, inFeatures])
        self.bias = bias ? store.add("\(name).bias", [outFeatures]) : nil
    }

    /// PyTorch's default: weight and bias uniform in `±1/sqrt(IN)` (kaiming_uniform, a = sqrt(5)).
    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        let bound = 1 / Float(inFeatures).squareRoot()
        rng.fillUniform(store.parameters(weight), count: weight.count, lo: -bound, hi: bound)
        if let bias { rng.fillUniform(store.parameters(bias), count: bias.count, lo: -bound, hi: bound) }
    }

    /// x: (N, IN)  w: (OUT, IN)  out: (N, OUT)  — out = x w^T + b
    public func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, n: Int,
                        _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        ws.profiler.count(flops: 2 * Double(n) * Double(self.inFeatures) * Double(self.outFeatures))
        let w = store.parameters(weight)
        if let bias {
            let b = store.parameters(bias)
            for i in 0..<n { (out + i * outFeatures).update(from: b, count: outFeatures) }
        }
        BLAS.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures,
                   a: x, lda: inFeatures, b: w, ldb: inFeatures,
                   beta: bias == nil ? 0 : 1, c: out, ldc: outFeatures)
    }

    /// dOut: (N, OUT)  x: (N, IN)  dx: (N, IN), all added into.
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         n: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        // dW (OUT, IN) += dOut^T x
        BLAS.sgemm(transA: true, m: outFeatures, n: inFeatures, k: n,
                   a: dOut, lda: outFeatures, b: x, ldb: inFeatures,
                   beta: 1, c: store.gradient(weight), ldc: inFeatures)
        if let bias {
            let db = store.gradient(bias)
            for i in 0..<n {
                let row = dOut + i * outFeatures
                for o in 0..<outFeatures { db[o] += row[o] }
            }
        }
        if let dx {
            // dx (N, IN) += dOut w
            BLAS.sgemm(m: n, n: inFeatures, k: outFeatures,
                       a: dOut, lda: outFeatures, b: store.parameters(weight), ldb: inFeatures,
                       beta: 1, c: dx, ldc: inFeatures)
        }
    }
}
