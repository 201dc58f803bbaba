/// LoRA adapters on a model's linear layers, as PEFT's `LoraLayer` wraps an `nn.Linear`:
///
///     y = x W^T + b + s (dropout(x) A^T) B^T        A: (r, IN)  B: (OUT, r)  s = alpha / r
///
/// `A` starts uniform in ±1/sqrt(IN) (PEFT's kaiming_uniform with a = sqrt(5), as `Linear`) and
/// `B` at zero, so before the first step the adapted model computes exactly what the base does.
/// The adapters' tensors live in their own `ParameterStore` (`store`), under PEFT's names
/// (`<module>.lora_A.weight`, `<module>.lora_B.weight`), so an optimizer, a clip or a checkpoint
/// sees them alone; the base's store stays untouched. `Linear` finds its adapter through the
/// base store's `lora` (by its weight's slot) and adds the low-rank path while `enabled`; with
/// `enabled` false the model is the base, bit for bit (the reference of a LoRA fine-tune).
///
/// Dropout acts on the adapter's input, only while `training` is set (the fine-tune's policy
/// pass), from a stream that depends only on `dropoutSeed` (set per step), the adapter and the
/// forward call of the step, so a resumed run draws the same masks.
public final class LoRAAdapters: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        public var rank: Int
        public var alpha: Double
        /// Module-name suffixes (PEFT's `target_modules`): a module is adapted when its name is
        /// a suffix or ends with "." + a suffix.
        public var targets: [String]
        public var dropout: Double

        public init(rank: Int, alpha: Double, targets: [String], dropout: Double) {
            self.rank = rank
            self.alpha = alpha
            self.targets = targets
            self.dropout = dropout
        }

        /// The scale of the low-rank path, alpha / rank.
        public var scale: Float { Float(alpha / Double(rank)) }
    }

    /// The adapter of one linear layer, and what its last forward kept for backward.
    public final class Adapter: @unchecked Sendable {
        /// The module's name in the base model (`...attn1.to_q`).
        public let module: String
        /// The base weight it adapts.
        public let base: ParameterSlot
        public let a: ParameterSlot
        public let b: ParameterSlot
        public let inFeatures: Int
        public let outFeatures: Int
        let index: Int
        /// dropout(x) A^T of the last forward (N, r).
        let hidden = FloatBuffer(count: 0)
        /// The last training forward's dropout factors (N, IN): 0 or 1 / (1 - p).
        let mask = FloatBuffer(count: 0)
        var rows = 0
        var masked = false
        /// Training forwards since the step's `dropoutSeed` was set (each draws its own mask).
        var calls = 0

        init(module: String, base: ParameterSlot, a: ParameterSlot, b: ParameterSlot, index: Int) {
            self.module = module
            self.base = base
            self.a = a
            self.b = b
            self.index = index
            outFeatures = base.shape[0]
            inFeatures = base.shape[1]
        }
    }

    public let settings: Settings
    public let scale: Float
    public let store = ParameterStore()
    public let adapters: [Adapter]
    private let byBaseOffset: [Int: Adapter]
    /// The low-rank paths are added (false: the model is its base).
    public var enabled = true
    /// Dropout is applied (the fine-tune's policy pass).
    public var training = false
    /// Set once per optimizer step; see the type's note on dropout.
    public var dropoutSeed: UInt64 = 0 {
        didSet { for adapter in adapters { adapter.calls = 0 } }
    }

    /// Adapters for every linear layer of `candidates` (`Linear` weights of a base store,
    /// `linearWeightSlots`: name `<module>.weight`, shape (OUT, IN)) whose module name matches a
    /// target. Throws `LoRATargetError` naming a target that matches none.
    public init(_ settings: Settings, candidates: [ParameterSlot]) throws {
        precondition(settings.rank > 0, "LoRAAdapters: rank must be positive")
        self.settings = settings
        scale = settings.scale
        let chosen = Self.matches(settings.targets, candidates)
        if let unmatched = Self.unmatchedTarget(settings.targets, candidates: candidates) {
            throw LoRATargetError(target: unmatched)
        }
        var adapters: [Adapter] = []
        for (index, c) in chosen.enumerated() {
            let a = store.add("\(c.module).lora_A.weight", [settings.rank, c.slot.shape[1]])
            let b = store.add("\(c.module).lora_B.weight", [c.slot.shape[0], settings.rank])
            adapters.append(Adapter(module: c.module, base: c.slot, a: a, b: b, index: index))
        }
        store.seal()
        self.adapters = adapters
        byBaseOffset = Dictionary(uniqueKeysWithValues: adapters.map { ($0.base.offset, $0) })
    }

    /// The linear layers (2-D `<module>.weight` slots) whose module name is a target or ends
    /// with "." + a target, in slot order.
    static func matches(_ targets: [String], _ candidates: [ParameterSlot]) -> [(module: String, slot: ParameterSlot)] {
        candidates.compactMap { slot in
            guard slot.shape.count == 2, slot.name.hasSuffix(".weight") else { return nil }
            let module = String(slot.name.dropLast(".weight".count))
            return targets.contains { module == $0 || module.hasSuffix("." + $0) } ? (module, slot) : nil
        }
    }

    /// The first target that matches no linear layer of `candidates`, if any.
    public static func unmatchedTarget(_ targets: [String], candidates: [ParameterSlot]) -> String? {
        let modules = matches(targets, candidates).map(\.module)
        return targets.first { target in !modules.contains { $0 == target || $0.hasSuffix("." + target) } }
    }

    /// A uniform in ±1/sqrt(IN), B zero.
    public func initialize(_ rng: inout RandomStream) {
        for adapter in adapters {
            let bound = 1 / Float(adapter.inFeatures).squareRoot()
            rng.fillUniform(store.parameters(adapter.a), count: adapter.a.count, lo: -bound, hi: bound)
            store.parameters(adapter.b).update(repeating: 0, count: adapter.b.count)
        }
    }

    /// The adapter of the linear layer whose weight is `slot` of the base store, when adapters are on.
    @inline(__always)
    func active(for slot: ParameterSlot) -> Adapter? {
        enabled ? byBaseOffset[slot.offset] : nil
    }

    /// out (N, OUT) += s (dropout(x) A^T) B^T; keeps dropout(x) A^T (and the mask) for backward.
    /// Rows are split over the workspace's threads, as `Linear` splits them.
    func forward(_ adapter: Adapter, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, n: Int, _ ws: Workspace) {
        let r = settings.rank, fin = adapter.inFeatures, fout = adapter.outFeatures, scale = scale
        adapter.rows = n
        adapter.masked = training && settings.dropout > 0
        var input = UnsafePointer(x)
        if adapter.masked {
            let mask = adapter.mask.reserve(n * fin), dropped = ws.loraScratch.reserve(n * fin)
            var rng = RandomStream(seed: dropoutSeed, stream: UInt64(adapter.index) << 20 | UInt64(adapter.calls))
            adapter.calls += 1
            let keep = Float(1 - settings.dropout), factor = 1 / keep
            for i in 0..<(n * fin) {
                mask[i] = rng.uniform() < keep ? factor : 0
                dropped[i] = x[i] * mask[i]
            }
            input = UnsafePointer(dropped)
        }
        let xs = SendablePointer(input), outs = SendablePointer(out), h = SendablePointer(adapter.hidden.reserve(n * r))
        let a = SendablePointer(store.parameters(adapter.a)), b = SendablePointer(store.parameters(adapter.b))
        parallelChunks(n, threads: ws.threads, minimumPerThread: rowsPerThread(adapter)) { rows in
            let hr = h.pointer + rows.lowerBound * r
            BLAS.sgemm(transB: true, m: rows.count, n: r, k: fin, a: xs.pointer + rows.lowerBound * fin, lda: fin, b: a.pointer,
                       ldb: fin, c: hr, ldc: r)
            BLAS.sgemm(transB: true, m: rows.count, n: fout, k: r, alpha: scale, a: hr, lda: r, b: b.pointer, ldb: r, beta: 1,
                       c: outs.pointer + rows.lowerBound * fout, ldc: fout)
        }
    }

    /// Given dOut (N, OUT) of the adapted layer and its input x: dB += s dOut^T h, dh = s dOut B,
    /// dA += dh^T dropout(x), dx += (dh A) * mask (added into dx when given). Row-wise products
    /// are split by rows, dB by its rows and dA by its columns (each thread sums over every row).
    func backward(_ adapter: Adapter, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  n: Int, _ ws: Workspace) {
        precondition(adapter.rows == n, "LoRAAdapters.backward: \(adapter.module)'s last forward had \(adapter.rows) rows, not \(n)")
        let r = settings.rank, fin = adapter.inFeatures, fout = adapter.outFeatures, scale = scale, masked = adapter.masked
        let a = SendablePointer(store.parameters(adapter.a)), b = SendablePointer(store.parameters(adapter.b))
        let da = SendablePointer(store.gradient(adapter.a)), db = SendablePointer(store.gradient(adapter.b))
        let h = SendablePointer(adapter.hidden.pointer), d = SendablePointer(dOut), mask = SendablePointer(adapter.mask.pointer)
        let dh = SendablePointer(ws.loraHiddenGradient.reserve(n * r))
        let minimumRows = rowsPerThread(adapter), reduction = max(1, Linear.work / max(1, n * r))
        parallelChunks(fout, threads: ws.threads, minimumPerThread: reduction) { outs in
            BLAS.sgemm(transA: true, m: outs.count, n: r, k: n, alpha: scale, a: d.pointer + outs.lowerBound, lda: fout, b: h.pointer,
                       ldb: r, beta: 1, c: db.pointer + outs.lowerBound * r, ldc: r)
        }
        parallelChunks(n, threads: ws.threads, minimumPerThread: minimumRows) { rows in
            BLAS.sgemm(m: rows.count, n: r, k: fout, alpha: scale, a: d.pointer + rows.lowerBound * fout, lda: fout, b: b.pointer,
                       ldb: r, c: dh.pointer + rows.lowerBound * r, ldc: r)
        }
        var input = UnsafePointer(x)
        if masked {
            let dropped = ws.loraScratch.reserve(n * fin)
            for i in 0..<(n * fin) { dropped[i] = x[i] * mask.pointer[i] }
            input = UnsafePointer(dropped)
        }
        let xs = SendablePointer(input)
        parallelChunks(fin, threads: ws.threads, minimumPerThread: reduction) { columns in
            BLAS.sgemm(transA: true, m: r, n: columns.count, k: n, a: dh.pointer, lda: r, b: xs.pointer + columns.lowerBound, ldb: fin,
                       beta: 1, c: da.pointer + columns.lowerBound, ldc: fin)
        }
        guard let dx else { return }
        let dxs = SendablePointer(dx), through = SendablePointer(masked ? ws.loraScratch.reserve(n * fin) : dx)
        parallelChunks(n, threads: ws.threads, minimumPerThread: minimumRows) { rows in
            let lo = rows.lowerBound
            // Unmasked: straight into dx; masked: into scratch, then through the mask into dx.
            BLAS.sgemm(m: rows.count, n: fin, k: r, a: dh.pointer + lo * r, lda: r, b: a.pointer, ldb: fin, beta: masked ? 0 : 1,
                       c: through.pointer + lo * fin, ldc: fin)
            if masked { for i in (lo * fin)..<(rows.upperBound * fin) { dxs.pointer[i] += through.pointer[i] * mask.pointer[i] } }
        }
    }

    /// Rows a thread's share should hold before the row-wise products are split (`Linear.work`).
    private func rowsPerThread(_ adapter: Adapter) -> Int {
        max(1, Linear.work / max(1, settings.rank * (adapter.inFeatures + adapter.outFeatures)))
    }

    /// The merged weight of an adapted layer: W + s B A, into `out` (OUT x IN).
    public func merged(_ adapter: Adapter, base: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        out.update(from: base, count: adapter.base.count)
        BLAS.sgemm(m: adapter.outFeatures, n: adapter.inFeatures, k: settings.rank, alpha: scale,
                   a: store.parameters(adapter.b), lda: settings.rank, b: store.parameters(adapter.a), ldb: adapter.inFeatures,
                   beta: 1, c: out, ldc: adapter.inFeatures)
    }
}

/// A `lora.targets` entry that names no linear layer of the model.
public struct LoRATargetError: Error, CustomStringConvertible {
    public let target: String
    public var description: String {
        "key 'lora.targets': '\(target)' matches no linear layer of the U-Net (module names end in to_q, to_k, to_v, to_out.0, proj_in, ff.net.2, ...)"
    }
}
