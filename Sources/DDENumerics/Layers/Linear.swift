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
        store.markLinear(weight)
        self.bias = bias ? store.add("\(name).bias", [outFeatures]) : nil
    }

    /// PyTorch's default: weight and bias uniform in `±1/sqrt(IN)` (kaiming_uniform, a = sqrt(5)).
    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        let bound = 1 / Float(inFeatures).squareRoot()
        rng.fillUniform(store.parameters(weight), count: weight.count, lo: -bound, hi: bound)
        if let bias { rng.fillUniform(store.parameters(bias), count: bias.count, lo: -bound, hi: bound) }
    }

    /// x: (N, IN)  w: (OUT, IN)  out: (N, OUT)  — out = x w^T + b
    /// The rows are split over the workspace's threads (one sgemm each; OpenBLAS stays
    /// single-threaded, Parallel.swift), once a thread's share is worth a dispatch.
    public func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, n: Int,
                        _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        ws.profiler.count(flops: 2 * Double(n) * Double(self.inFeatures) * Double(self.outFeatures))
        let w = SendablePointer(store.parameters(weight)), b = bias.map { SendablePointer(store.parameters($0)) }
        let xs = SendablePointer(x), outs = SendablePointer(out), fin = inFeatures, fout = outFeatures
        parallelChunks(n, threads: ws.threads, minimumPerThread: rowsPerThread) { rows in
            let o = outs.pointer + rows.lowerBound * fout
            if let b { for i in 0..<rows.count { (o + i * fout).update(from: b.pointer, count: fout) } }
            BLAS.sgemm(transB: true, m: rows.count, n: fout, k: fin, a: xs.pointer + rows.lowerBound * fin, lda: fin,
                       b: w.pointer, ldb: fin, beta: b == nil ? 0 : 1, c: o, ldc: fout)
        }
        if let lora = store.lora, let adapter = lora.active(for: weight) { lora.forward(adapter, x, out, n: n, ws) }
    }

    /// dOut: (N, OUT)  x: (N, IN)  dx: (N, IN), all added into.
    /// dW and the bias's gradient are split over the threads by output feature (each thread owns
    /// whole rows of dW, summing over every input row), dx by input row.
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         n: Int, _ store: ParameterStore, _ ws: Workspace) {
        let profile = ws.profiler.start()
        defer { ws.profiler.stop(.linear, profile) }
        let d = SendablePointer(dOut), xs = SendablePointer(x), fin = inFeatures, fout = outFeatures
        let dw = SendablePointer(store.gradient(weight)), db = bias.map { SendablePointer(store.gradient($0)) }
        // dW (OUT, IN) += dOut^T x, rows o of dW per thread (not while only adapters train)
        if store.trainsWeights {
            parallelChunks(fout, threads: ws.threads, minimumPerThread: max(1, Self.work / max(1, n * fin))) { outs in
                BLAS.sgemm(transA: true, m: outs.count, n: fin, k: n, a: d.pointer + outs.lowerBound, lda: fout, b: xs.pointer,
                           ldb: fin, beta: 1, c: dw.pointer + outs.lowerBound * fin, ldc: fin)
                if let db { Self.addColumnSums(d.pointer, rows: n, stride: fout, columns: outs, into: db.pointer) }
            }
        }
        if let lora = store.lora, let adapter = lora.active(for: weight) { lora.backward(adapter, dOut: dOut, x: x, dx: dx, n: n, ws) }
        if let dx {
            // dx (N, IN) += dOut w, rows per thread
            let dxs = SendablePointer(dx), w = SendablePointer(store.parameters(weight))
            parallelChunks(n, threads: ws.threads, minimumPerThread: rowsPerThread) { rows in
                BLAS.sgemm(m: rows.count, n: fin, k: fout, a: d.pointer + rows.lowerBound * fout, lda: fout, b: w.pointer, ldb: fin,
                           beta: 1, c: dxs.pointer + rows.lowerBound * fin, ldc: fin)
            }
        }
    }

    /// into[o] += Σ_i m[i * stride + o] for o in `columns`: the bias's gradient, eight columns
    /// at a time in registers over every row (each column's sum in row order, as a scalar loop).
    @inline(__always)
    static func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, stride: Int, columns: Range<Int>,
                              into: UnsafeMutablePointer<Float>) {
        var o = columns.lowerBound
        while o + 8 <= columns.upperBound {
            var sum = (into + o).load8(0)
            for i in 0..<rows { sum += (m + i * stride + o).load8(0) }
            (into + o).store8(sum, 0)
            o += 8
        }
        while o < columns.upperBound {
            var sum = into[o]
            for i in 0..<rows { sum += m[i * stride + o] }
            into[o] = sum
            o += 1
        }
    }

    /// Multiply-adds a thread's share should hold before the work is split (a dispatch costs a
    /// few microseconds; 2^18 multiply-adds take about 10 on one core here).
    static let work = 1 << 18
    var rowsPerThread: Int { max(1, Self.work / max(1, inFeatures * outFeatures)) }
}
