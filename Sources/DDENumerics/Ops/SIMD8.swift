// Eight-lane Float access for the hand-vectorised kernels.
//
// Why explicit SIMD8 instead of plain loops: Swift does not reassociate floating-point sums,
// so a plain `s += x[i]` reduction never vectorises, and LLVM's runtime alias check sends an
// in-place elementwise loop (`out == x`) to its scalar fallback. A loop that loads eight
// floats, computes, then stores eight is vectorised by construction and correct in place.
// (SiLU over 2 Mi floats in place: 0.99 ms, the same as out of place; `LayerBenchmarks`.)
// `-target-cpu haswell` maps `SIMD8<Float>` onto one AVX register.

extension UnsafePointer where Pointee == Float {
    /// The eight floats at `self + i` (no alignment needed).
    @inlinable @inline(__always)
    func load8(_ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(self + i).loadUnaligned(as: SIMD8<Float>.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// The eight floats at `self + i` (no alignment needed).
    @inlinable @inline(__always)
    func load8(_ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(self + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Writes eight floats at `self + i` (no alignment needed).
    @inlinable @inline(__always)
    func store8(_ v: SIMD8<Float>, _ i: Int) {
        UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}
