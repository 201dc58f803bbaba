/// `dde-train bench kernels`: each convolution of the reference U-Net's shapes (model.md:
/// batch 64, 16x16, channels 64 and 128), forward and backward, next to plain sgemm on the
/// same GEMM shapes, so the cost of im2col, col2im, the bias and the layout changes shows.
/// The convolution splits images over our threads (single-threaded sgemm each); the plain
/// sgemm is OpenBLAS's own threading over the whole batch, i.e. the best a caller gets from it.
public struct KernelBench {
    /// One convolution shape of the reference network.
    public struct Case: Sendable {
        public let name: String
        public let batch, inChannels, outChannels, size, kernel, stride: Int
    }

    /// One row of the result.
    public struct Row: Sendable, Codable {
        public let name: String
        /// Median seconds of conv forward, of conv backward (dW, db and dx), and of the three
        /// bare sgemm calls with the same (m, n, k) on the whole batch.
        public let forward: TimingSummary
        public let backward: TimingSummary
        public let sgemmForward: TimingSummary
        public let sgemmBackward: TimingSummary
        /// FLOPs of the forward GEMM (backward does twice as many).
        public let forwardFLOPs: Double

        public var convRate: Double { 3 * forwardFLOPs / (forward.median + backward.median) / 1e9 }
        public var sgemmRate: Double { 3 * forwardFLOPs / (sgemmForward.median + sgemmBackward.median) / 1e9 }
    }

    public static let referenceCases: [Case] = [
        Case(name: "3x3 64->64 16x16", batch: 64, inChannels: 64, outChannels: 64, size: 16, kernel: 3, stride: 1),
        Case(name: "3x3 128->128 16x16", batch: 64, inChannels: 128, outChannels: 128, size: 16, kernel: 3, stride: 1),
        Case(name: "3x3 192->64 16x16", batch: 64, inChannels: 192, outChannels: 64, size: 16, kernel: 3, stride: 1),
        Case(name: "3x3 128->128 8x8", batch: 64, inChannels: 128, outChannels: 128, size: 8, kernel: 3, stride: 1),
        Case(name: "3x3/2 64->64 16->8", batch: 64, inChannels: 64, outChannels: 64, size: 16, kernel: 3, stride: 2),
        Case(name: "1x1 192->64 16x16", batch: 64, inChannels: 192, outChannels: 64, size: 16, kernel: 1, stride: 1),
    ]

    public let warmup: Int
    public let repeats: Int
    /// Where the convolutions compute (its threads and algorithm); the bare sgemm runs on as
    /// many OpenBLAS threads.
    public let workspace: Workspace

    public init(warmup: Int, repeats: Int, workspace: Workspace) {
        self.warmup = warmup
        self.repeats = repeats
        self.workspace = workspace
    }

    public func run(_ c: Case, seed: UInt64 = 0) -> Row {
        let store = ParameterStore()
        let conv = Conv2d(store, "conv", inChannels: c.inChannels, outChannels: c.outChannels,
                          kernel: c.kernel, stride: c.stride)
        store.seal()
        var rng = RandomStream(seed: seed, stream: 1)
        conv.initialize(store, &rng)
        let g = conv.geometry(height: c.size, width: c.size)
        let x = FloatBuffer(count: c.batch * c.inChannels * g.inPixels)
        let out = FloatBuffer(count: c.batch * c.outChannels * g.outPixels)
        let dx = FloatBuffer(count: x.capacity)
        rng.fillNormal(x.pointer, count: x.capacity)
        rng.fillNormal(out.pointer, count: out.capacity)
        let ws = workspace
        let forward = Stopwatch.time(warmup: warmup, repeats: repeats) {
            conv.forward(x.pointer, out.pointer, n: c.batch, height: c.size, width: c.size, store, ws)
        }
        let backward = Stopwatch.time(warmup: warmup, repeats: repeats) {
            conv.backward(dOut: out.pointer, x: x.pointer, dx: dx.pointer, n: c.batch, height: c.size, width: c.size, store, ws)
        }
        // Bare sgemm with the same (m, n, k) over the whole batch: forward W·col,
        // backward gOut·col^T and W^T·gOut; OpenBLAS threads it itself on our thread count.
        BLAS.setThreads(ws.threads)
        defer { BLAS.setThreads(1) }
        let m = c.outChannels, n = c.batch * g.outPixels, k = g.rows
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), cm = FloatBuffer(count: m * n)
        let da = FloatBuffer(count: m * k), db = FloatBuffer(count: k * n)
        rng.fillNormal(a.pointer, count: m * k)
        rng.fillNormal(b.pointer, count: k * n)
        rng.fillNormal(cm.pointer, count: m * n)
        let sgemmForward = Stopwatch.time(warmup: warmup, repeats: repeats) {
            BLAS.sgemm(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, c: cm.pointer, ldc: n)
        }
        let sgemmBackward = Stopwatch.time(warmup: warmup, repeats: repeats) {
            BLAS.sgemm(transB: true, m: m, n: k, k: n, a: cm.pointer, lda: n, b: b.pointer, ldb: n,
                       beta: 1, c: da.pointer, ldc: k)
            BLAS.sgemm(transA: true, m: k, n: n, k: m, a: a.pointer, lda: k, b: cm.pointer, ldb: n,
                       c: db.pointer, ldc: n)
        }
        return Row(name: c.name, forward: TimingSummary(forward), backward: TimingSummary(backward),
                   sgemmForward: TimingSummary(sgemmForward), sgemmBackward: TimingSummary(sgemmBackward),
                   forwardFLOPs: conv.forwardFLOPs(n: c.batch, height: c.size, width: c.size))
    }
}
