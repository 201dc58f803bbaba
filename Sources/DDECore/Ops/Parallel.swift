import Dispatch

/// How many threads dde-train's own loops use (BLAS has its own count, set with it in
/// `Threads.configure`). Set once from the `threads` config key by the executable.
public enum Threads {
    nonisolated(unsafe) public private(set) static var count = 1

    /// Sets the thread count of our loops and of OpenBLAS.
    public static func configure(_ n: Int) {
        count = max(1, n)
        BLAS.setThreads(count)
    }
}

/// A pointer that may cross into `concurrentPerform` (Swift 6 rejects capturing raw pointers).
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    public init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// Splits `0..<count` into contiguous chunks over the configured threads.
///
/// Runs inline when the work is small (`count < minimumPerThread * 2`) or one thread is
/// configured, so the dispatch cost (a few microseconds) is only paid where it pays.
@inlinable
public func parallelChunks(_ count: Int, minimumPerThread: Int = 1 << 14,
                           _ body: @Sendable (Range<Int>) -> Void) {
    let threads = min(Threads.count, count / max(minimumPerThread, 1))
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
