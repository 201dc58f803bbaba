/// Scans flat buffers for NaN and ±Inf: one loop, split across threads, that reports the
/// *first* bad index and, through the store's table, the tensor it belongs to.
///
/// The test is on the bits (exponent all ones), so it is exact under `-Ounchecked` and
/// vectorises as an integer max over blocks; only the block that holds a bad value is
/// rescanned to find its position.
public enum FiniteCheck {
    /// A non-finite value found by a scan.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        /// Flat index into the buffer.
        public let index: Int
        /// The value there (NaN, +Inf or -Inf).
        public let value: Float
        /// The tensor holding it and the index inside that tensor (nil for a bare buffer).
        public let slot: String?
        public let indexInSlot: Int?

        public var description: String {
            if let slot, let indexInSlot { return "\(value) at \(slot)[\(indexInSlot)] (flat index \(index))" }
            return "\(value) at flat index \(index)"
        }
    }

    /// The first index in `0..<count` whose value is NaN or ±Inf, or nil if all are finite.
    public static func firstNonFinite(_ p: UnsafePointer<Float>, count: Int, _ ws: Workspace) -> Int? {
        let minimumPerThread = 1 << 15
        let threads = max(1, min(ws.threads, count / minimumPerThread))
        let chunk = (count + threads - 1) / threads
        let src = SendablePointer(p)
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: threads) { found in
            let out = SendablePointer(found.baseAddress!)
            parallelChunks(threads, threads: ws.threads, minimumPerThread: 1) { ts in
                for t in ts {
                    let lo = min(count, t * chunk), hi = min(count, lo + chunk)
                    out.pointer[t] = firstNonFiniteSerial(src.pointer, lo..<hi)
                }
            }
            // Chunks are in index order, so the first chunk with a hit has the first index.
            for t in 0..<threads where found[t] >= 0 { return found[t] }
            return nil
        }
    }

    /// The first non-finite gradient, named by its tensor, or nil.
    public static func firstNonFiniteGradient(_ store: ParameterStore, _ ws: Workspace) -> Finding? {
        ws.profiler.measure(.gradientChecks) { scan(store, store.grads.pointer, ws) }
    }

    /// The first non-finite parameter, named by its tensor, or nil.
    public static func firstNonFiniteParameter(_ store: ParameterStore, _ ws: Workspace) -> Finding? {
        scan(store, store.params.pointer, ws)
    }

    /// The first non-finite value of any buffer parallel to the store's parameters (AdamW
    /// moments, EMA weights), named by its tensor, or nil.
    public static func firstNonFinite(_ buffer: FloatBuffer, in store: ParameterStore, _ ws: Workspace) -> Finding? {
        precondition(buffer.capacity >= store.count, "FiniteCheck: buffer smaller than the store")
        return scan(store, buffer.pointer, ws)
    }

    private static func scan(_ store: ParameterStore, _ p: UnsafeMutablePointer<Float>, _ ws: Workspace) -> Finding? {
        guard let i = firstNonFinite(p, count: store.count, ws) else { return nil }
        let slot = store.slot(containing: i)
        return Finding(index: i, value: p[i], slot: slot?.name, indexInSlot: slot.map { i - $0.offset })
    }
}

/// First index in `range` with an all-ones exponent, or -1.
///
/// Blocks of 1024 are reduced to the largest masked exponent (an integer max, which
/// vectorises; an OR of "is bad" flags does not, because LLVM turns it into an early exit);
/// only the first block whose maximum is all ones is rescanned element by element.
@inline(__always)
func firstNonFiniteSerial(_ p: UnsafePointer<Float>, _ range: Range<Int>) -> Int {
    let exponent: UInt32 = 0x7F80_0000
    var lo = range.lowerBound
    while lo < range.upperBound {
        let hi = min(range.upperBound, lo + 1024)
        var largest: UInt32 = 0
        for i in lo..<hi { largest = max(largest, p[i].bitPattern & exponent) }
        if largest == exponent {
            for i in lo..<hi where p[i].bitPattern & exponent == exponent { return i }
        }
        lo = hi
    }
    return -1
}
