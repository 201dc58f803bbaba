/// Lanes for the Winograd transforms: eight (`SIMD8<Float>`), four, or one (`Float`, the tail)
/// neighbouring tiles (`WinogradF2x3`), images (`WinogradF4x3`) or filters (the weight
/// transforms). The pass functions are written once, generic over the lanes, and inlined at
/// each width.
///
/// `loadPairs` reads 2 x width consecutive floats and splits them into the even and the odd
/// ones (tile t's first and second pixel when tiles step by two pixels); `storePairs` is its
/// inverse.
///
/// Public only because its operator requirements are: an internal protocol's `+` shadows the
/// standard library's in the module's `@inlinable` code.
public protocol TileLanes {
    static var width: Int { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static var zero: Self { get }
    static func splat(_ x: Float) -> Self
    static func load(_ p: UnsafePointer<Float>) -> Self
    static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>)
    /// Every `stride`-th float from p (lane l = p[l * stride]), and the scatter back.
    static func load(_ p: UnsafePointer<Float>, stride: Int) -> Self
    static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>, stride: Int)
    static func loadPairs(_ p: UnsafePointer<Float>) -> (even: Self, odd: Self)
    static func storePairs(_ even: Self, _ odd: Self, _ p: UnsafeMutablePointer<Float>)
    /// The sum of the lanes.
    var total: Float { get }
    /// Interleaves `width` rows (row l at p + l * stride) into q: q[j * width + l] = p[l * stride + j]
    /// for j in 0..<count. SIMD8 moves 8x8 blocks with an in-register transpose instead of a
    /// gather per vector (`load(_:stride:)` is eight inserts).
    static func interleave(_ p: UnsafePointer<Float>, stride: Int, count: Int, into q: UnsafeMutablePointer<Float>)
    /// The inverse: p[l * stride + j] = q[j * width + l], or += when `adding`.
    static func deinterleave(_ q: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, stride: Int, count: Int, adding: Bool)
}

extension TileLanes {
    /// `self` times a constant (the transforms' coefficients).
    @inline(__always) func times(_ k: Float) -> Self { self * Self.splat(k) }
}

/// The float vectors' lanes: what every width shares (each width keeps only its pair shuffles).
extension TileLanes where Self: SIMD, Self.Scalar == Float {
    public static var width: Int { Self.scalarCount }
    @inline(__always) public static func splat(_ x: Float) -> Self { Self(repeating: x) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Self.self)
    }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>, stride: Int) -> Self {
        var v = Self()
        for l in 0..<Self.scalarCount { v[l] = p[l * stride] }
        return v
    }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>, stride: Int) {
        for l in 0..<Self.scalarCount { p[l * stride] = v[l] }
    }
    public var total: Float { sum() }
    @inline(__always) public static func interleave(_ p: UnsafePointer<Float>, stride: Int, count: Int, into q: UnsafeMutablePointer<Float>) {
        for j in 0..<count { store(load(p + j, stride: stride), q + j * scalarCount) }
    }
    @inline(__always) public static func deinterleave(_ q: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, stride: Int, count: Int,
                                                      adding: Bool) {
        for j in 0..<count {
            let v = load(q + j * scalarCount)
            store(adding ? load(p + j, stride: stride) + v : v, p + j, stride: stride)
        }
    }
}

extension SIMD8<Float> {
    /// The 8x8 transpose: lane l of result j is lane j of row l, written as three rounds of
    /// two-input lane selections (unpack, 64-bit pairs, 128-bit halves). The compiler picks the
    /// instructions: here (haswell) inserts and blends, not the 24 textbook shuffles, yet still
    /// faster than eight-insert gathers (docs/BENCHMARKS.md).
    @inline(__always)
    static func transpose(_ r: (Self, Self, Self, Self, Self, Self, Self, Self)) -> (Self, Self, Self, Self, Self, Self, Self, Self) {
        @inline(__always) func unpackLow(_ a: Self, _ b: Self) -> Self { Self(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
        @inline(__always) func unpackHigh(_ a: Self, _ b: Self) -> Self { Self(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
        @inline(__always) func pairsLow(_ a: Self, _ b: Self) -> Self { Self(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
        @inline(__always) func pairsHigh(_ a: Self, _ b: Self) -> Self { Self(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
        @inline(__always) func halvesLow(_ a: Self, _ b: Self) -> Self { Self(lowHalf: a.lowHalf, highHalf: b.lowHalf) }
        @inline(__always) func halvesHigh(_ a: Self, _ b: Self) -> Self { Self(lowHalf: a.highHalf, highHalf: b.highHalf) }
        let t0 = unpackLow(r.0, r.1), t1 = unpackHigh(r.0, r.1), t2 = unpackLow(r.2, r.3), t3 = unpackHigh(r.2, r.3)
        let t4 = unpackLow(r.4, r.5), t5 = unpackHigh(r.4, r.5), t6 = unpackLow(r.6, r.7), t7 = unpackHigh(r.6, r.7)
        let s0 = pairsLow(t0, t2), s1 = pairsHigh(t0, t2), s2 = pairsLow(t1, t3), s3 = pairsHigh(t1, t3)
        let s4 = pairsLow(t4, t6), s5 = pairsHigh(t4, t6), s6 = pairsLow(t5, t7), s7 = pairsHigh(t5, t7)
        return (halvesLow(s0, s4), halvesLow(s1, s5), halvesLow(s2, s6), halvesLow(s3, s7),
                halvesHigh(s0, s4), halvesHigh(s1, s5), halvesHigh(s2, s6), halvesHigh(s3, s7))
    }

    @inline(__always) public static func interleave(_ p: UnsafePointer<Float>, stride: Int, count: Int, into q: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 8 <= count {
            let c = transpose((load(p + j), load(p + stride + j), load(p + 2 * stride + j), load(p + 3 * stride + j),
                               load(p + 4 * stride + j), load(p + 5 * stride + j), load(p + 6 * stride + j), load(p + 7 * stride + j)))
            let o = q + j * 8
            store(c.0, o); store(c.1, o + 8); store(c.2, o + 16); store(c.3, o + 24)
            store(c.4, o + 32); store(c.5, o + 40); store(c.6, o + 48); store(c.7, o + 56)
            j += 8
        }
        while j < count { store(load(p + j, stride: stride), q + j * 8); j += 1 }
    }

    @inline(__always) public static func deinterleave(_ q: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, stride: Int, count: Int,
                                                      adding: Bool) {
        var j = 0
        while j + 8 <= count {
            let i = q + j * 8
            let c = transpose((load(i), load(i + 8), load(i + 16), load(i + 24), load(i + 32), load(i + 40), load(i + 48), load(i + 56)))
            @inline(__always) func put(_ v: Self, _ l: Int) {
                let o = p + l * stride + j
                store(adding ? load(o) + v : v, o)
            }
            put(c.0, 0); put(c.1, 1); put(c.2, 2); put(c.3, 3); put(c.4, 4); put(c.5, 5); put(c.6, 6); put(c.7, 7)
            j += 8
        }
        while j < count {
            let v = load(q + j * 8)
            store(adding ? load(p + j, stride: stride) + v : v, p + j, stride: stride)
            j += 1
        }
    }
}

extension SIMD8<Float>: TileLanes {
    @inline(__always) public static func loadPairs(_ p: UnsafePointer<Float>) -> (even: Self, odd: Self) {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        return (v.evenHalf, v.oddHalf)
    }
    @inline(__always) public static func storePairs(_ a: Self, _ b: Self, _ p: UnsafeMutablePointer<Float>) {
        let v = SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}

extension SIMD4<Float>: TileLanes {
    @inline(__always) public static func loadPairs(_ p: UnsafePointer<Float>) -> (even: Self, odd: Self) {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        return (v.evenHalf, v.oddHalf)
    }
    @inline(__always) public static func storePairs(_ a: Self, _ b: Self, _ p: UnsafeMutablePointer<Float>) {
        let v = SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}

extension Float: TileLanes {
    @inline(__always) public static func load(_ p: UnsafePointer<Float>, stride: Int) -> Self { p[0] }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>, stride: Int) { p[0] = v }
    public static var width: Int { 1 }
    @inline(__always) public static func splat(_ x: Float) -> Self { x }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> Self { p[0] }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>) { p[0] = v }
    @inline(__always) public static func loadPairs(_ p: UnsafePointer<Float>) -> (even: Self, odd: Self) { (p[0], p[1]) }
    @inline(__always) public static func storePairs(_ a: Self, _ b: Self, _ p: UnsafeMutablePointer<Float>) { p[0] = a; p[1] = b }
    public var total: Float { self }
    @inline(__always) public static func interleave(_ p: UnsafePointer<Float>, stride: Int, count: Int, into q: UnsafeMutablePointer<Float>) {
        q.update(from: p, count: count)
    }
    @inline(__always) public static func deinterleave(_ q: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, stride: Int, count: Int,
                                                      adding: Bool) {
        if adding { for j in 0..<count { p[j] += q[j] } } else { p.update(from: q, count: count) }
    }
}
