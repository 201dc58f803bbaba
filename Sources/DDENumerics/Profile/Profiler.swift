// Profile: timing. `Profiler` adds up wall-clock time per kind of work (`Profiler.Section`:
// convolutions, group norm, elementwise, linear, optimizer, gradient checks) for `dde-train bench
// step`; it is off by default, and then `measure` costs one branch. `Stopwatch` is the monotonic
// clock and `TimingSummary` the median and spread of repeated timings. The kernels of Ops, Layers
// and Optim time themselves with it; uses no other folder.

/// Wall-clock time per kind of work, for `bench` profiles ("where a step's time goes").
/// Off by default; when off, `measure` costs one branch.
public enum Profiler {
    public enum Section: String, CaseIterable, Sendable {
        case convForward = "conv forward"
        case convBackward = "conv backward"
        /// Inside the convolutions, the first thread's share (the others run the same work).
        case convGEMM = "  of which GEMM (thread 0)"
        case convTransforms = "  of which im2col / Winograd transforms (thread 0)"
        /// Winograd weight transforms and their adjoint (all threads, not inside the above).
        case convWeightTransforms = "  of which Winograd weight transforms"
        case groupNorm = "group norm (+SiLU)"
        case elementwise = "elementwise, concat, upsample"
        case linear = "linear, embeddings"
        case optimizer = "optimizer (AdamW)"
        case gradientChecks = "finite check, norm, clipping"
        case other = "other"
    }

    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) static var seconds = [Double](repeating: 0, count: Section.allCases.count)
    nonisolated(unsafe) static var calls = [Int](repeating: 0, count: Section.allCases.count)

    @inlinable
    public static func measure<R>(_ section: Section, _ body: () throws -> R) rethrows -> R {
        if !enabled { return try body() }
        let t0 = Stopwatch.now()
        defer { record(section, Stopwatch.now() - t0) }
        return try body()
    }

    /// `measure` on the first of a parallel loop's threads only (the profiler is not thread-safe).
    @inlinable
    public static func measure<R>(_ section: Section, thread: Int, _ body: () throws -> R) rethrows -> R {
        if thread != 0 { return try body() }
        return try measure(section, body)
    }

    /// `let t0 = Profiler.start(); defer { Profiler.stop(.section, t0) }` at the top of a kernel.
    @inlinable
    public static func start() -> Double { enabled ? Stopwatch.now() : 0 }

    @inlinable
    public static func stop(_ section: Section, _ t0: Double) {
        if enabled { record(section, Stopwatch.now() - t0) }
    }

    @usableFromInline
    static func record(_ section: Section, _ s: Double) {
        let i = Section.allCases.firstIndex(of: section)!
        seconds[i] += s
        calls[i] += 1
    }

    public static func reset() {
        seconds = seconds.map { _ in 0 }
        calls = calls.map { _ in 0 }
        flops = 0
    }

    /// Nominal FLOPs (2 x multiply-adds of the direct algorithm, whatever the kernel does) of
    /// the convolutions and linear layers run while enabled: what benchmarks divide by time.
    nonisolated(unsafe) public private(set) static var flops = 0.0

    @inlinable
    public static func count(flops f: @autoclosure () -> Double) {
        if enabled { addFLOPs(f()) }
    }

    @usableFromInline
    static func addFLOPs(_ f: Double) { flops += f }

    /// (section, total seconds, calls), in declaration order.
    public static var report: [(Section, Double, Int)] {
        Section.allCases.enumerated().map { ($1, seconds[$0], calls[$0]) }
    }
}
