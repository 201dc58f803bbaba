// Profile: timing. A `Profiler` adds up wall-clock time per kind of work (`Profiler.Section`:
// convolutions, group norm, layer norm, attention, elementwise, linear, optimizer, gradient checks) for `dde-train bench
// step`. It travels in the workspace the kernels receive; the workspace's default profiler is
// disabled, and then `measure` costs one branch. `Stopwatch` is the monotonic clock and
// `TimingSummary` the median and spread of repeated timings. Uses no other folder.

/// Wall-clock time per kind of work, for `bench` profiles ("where a step's time goes").
/// A disabled profiler records nothing; `measure` then costs one branch. A benchmark switches
/// its workspace's profiler on around the runs it profiles. Not thread-safe: inside a parallel
/// loop only the first thread records (`measure(_:thread:_:)`).
public final class Profiler: @unchecked Sendable {
    public enum Section: String, CaseIterable, Sendable {
        case convForward = "conv forward"
        case convBackward = "conv backward"
        /// Inside the convolutions, the first thread's share (the others run the same work).
        case convGEMM = "  of which GEMM (thread 0)"
        case convTransforms = "  of which im2col / Winograd transforms (thread 0)"
        /// Winograd weight transforms and their adjoint (all threads, not inside the above).
        case convWeightTransforms = "  of which Winograd weight transforms"
        case groupNorm = "group norm (+SiLU)"
        case layerNorm = "layer norm"
        /// Scores, softmax and the products with V (the projections count as linear).
        case attention = "attention (scores, softmax, weighted sum)"
        case elementwise = "elementwise, concat, upsample"
        case linear = "linear, embeddings"
        case optimizer = "optimizer (AdamW)"
        case gradientChecks = "finite check, norm, clipping"
        case other = "other"
    }

    public var isEnabled: Bool
    @usableFromInline var seconds = [Double](repeating: 0, count: Section.allCases.count)
    @usableFromInline var calls = [Int](repeating: 0, count: Section.allCases.count)
    /// Nominal FLOPs (2 x multiply-adds of the direct algorithm, whatever the kernel does) of
    /// the convolutions and linear layers run while enabled: what benchmarks divide by time.
    public private(set) var flops = 0.0

    public init(enabled: Bool = false) {
        isEnabled = enabled
    }

    @inlinable
    public func measure<R>(_ section: Section, _ body: () throws -> R) rethrows -> R {
        if !isEnabled { return try body() }
        let t0 = Stopwatch.now()
        defer { record(section, Stopwatch.now() - t0) }
        return try body()
    }

    /// `measure` on the first of a parallel loop's threads only.
    @inlinable
    public func measure<R>(_ section: Section, thread: Int, _ body: () throws -> R) rethrows -> R {
        if thread != 0 { return try body() }
        return try measure(section, body)
    }

    /// `let t0 = ws.profiler.start(); defer { ws.profiler.stop(.section, t0) }` at the top of a kernel.
    @inlinable
    public func start() -> Double { isEnabled ? Stopwatch.now() : 0 }

    @inlinable
    public func stop(_ section: Section, _ t0: Double) {
        if isEnabled { record(section, Stopwatch.now() - t0) }
    }

    @usableFromInline
    func record(_ section: Section, _ s: Double) {
        let i = Section.allCases.firstIndex(of: section)!
        seconds[i] += s
        calls[i] += 1
    }

    /// Runs `body` with the profiler on, from nothing recorded; what it recorded stays readable
    /// (`report`, `flops`) until the next `reset`.
    @discardableResult
    public func recording<R>(_ body: () throws -> R) rethrows -> R {
        reset()
        isEnabled = true
        defer { isEnabled = false }
        return try body()
    }

    /// Forgets what was recorded (after warm-up runs).
    public func reset() {
        seconds = seconds.map { _ in 0 }
        calls = calls.map { _ in 0 }
        flops = 0
    }

    @inlinable
    public func count(flops f: @autoclosure () -> Double) {
        if isEnabled { addFLOPs(f()) }
    }

    @usableFromInline
    func addFLOPs(_ f: Double) { flops += f }

    /// (section, total seconds, calls), in declaration order.
    public var report: [(Section, Double, Int)] {
        Section.allCases.enumerated().map { ($1, seconds[$0], calls[$0]) }
    }
}
