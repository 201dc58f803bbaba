/// Sums over contiguous `Float` rows, vectorised and with a bounded error.
///
/// Summation contract: the row is cut into blocks of 256; each block is summed in eight
/// interleaved `Float` lanes (32 terms per lane) and the block sums are added in `Double`.
/// The error is therefore at most ~32 ulp of a block's magnitude (typically ~6), i.e. a
/// relative error below ~2e-6 that does not grow with the row length, and every row is summed
/// in the same order whatever the thread count (results are deterministic). A plain
/// `s += x[i]` loop would be exact-order scalar code: Swift never reassociates floating-point
/// additions, so it cannot vectorise.
public enum Reduce {
    @usableFromInline static let block = 256

    /// Σ x[i]
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var acc = SIMD8<Float>()
            var i = start
            while i + 8 <= end { acc += x.load8(i); i += 8 }
            var s = acc.sum()
            while i < end { s += x[i]; i += 1 }
            total += Double(s)
            start = end
        }
        return total
    }

    /// Σ (x[i] - center)^2 — the second pass of a two-pass variance (no cancellation).
    public static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, from center: Float) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var acc = SIMD8<Float>()
            var i = start
            while i + 8 <= end { let d = x.load8(i) - center; acc += d * d; i += 8 }
            var s = acc.sum()
            while i < end { let d = x[i] - center; s += d * d; i += 1 }
            total += Double(s)
            start = end
        }
        return total
    }

    /// Σ (a[i] - b[i])^2
    public static func sumOfSquaredDifferences(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                               count: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var acc = SIMD8<Float>()
            var i = start
            while i + 8 <= end { let d = a.load8(i) - b.load8(i); acc += d * d; i += 8 }
            var s = acc.sum()
            while i < end { let d = a[i] - b[i]; s += d * d; i += 1 }
            total += Double(s)
            start = end
        }
        return total
    }

    /// (Σ g[i], Σ g[i] (x[i] - center)) in one pass — GroupNorm's backward statistics.
    public static func sumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int,
                                         center: Float) -> (sum: Double, dot: Double) {
        var sum = 0.0, dot = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var accS = SIMD8<Float>(), accD = SIMD8<Float>()
            var i = start
            while i + 8 <= end {
                let gv = g.load8(i)
                accS += gv
                accD += gv * (x.load8(i) - center)
                i += 8
            }
            var s = accS.sum(), d = accD.sum()
            while i < end { s += g[i]; d += g[i] * (x[i] - center); i += 1 }
            sum += Double(s)
            dot += Double(d)
            start = end
        }
        return (sum, dot)
    }
}
