import Dispatch

// dde-train does its own threading and keeps OpenBLAS single-threaded: a convolution splits its
// images across our threads and each calls sgemm on its share. Letting OpenBLAS thread the GEMMs
// while GCD threads the loops between them made the two pools fight for two cores (OpenBLAS's
// workers spin after each call): a [32,64] U-Net forward at batch 128 took 274 ms that way
// against 166 ms with our loops serial (steptime, same machine, same run). The thread count is
// the workspace's (`Workspace.threads`, from the `threads` key); nothing here is process-wide.

/// Runs `body(i)` for i in 0..<count concurrently (inline when count is 1).
@inlinable
public func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}

/// A pointer that may cross into `concurrentPerform` (Swift 6 rejects capturing raw pointers).
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    public init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// Splits `0..<count` into contiguous chunks over at most `threads` threads.
///
/// Runs inline when the work is small (`count < minimumPerThread * 2`) or `threads` is one, so
/// the dispatch cost (a few microseconds) is only paid where it pays.
@inlinable
public func parallelChunks(_ count: Int, threads: Int, minimumPerThread: Int = 1 << 14,
                           _ body: @Sendable (Range<Int>) -> Void) {
    let threads = min(threads, count / max(minimumPerThread, 1))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + threads - 1) / threads
    DispatchQueue.concurrentPerform(iterations: threads) { i in
        let lo = i * chunk
        let hi = min(count, lo + chunk)
        if lo < hi { body(lo..<hi) }
    }
}
