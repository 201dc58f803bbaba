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
}
