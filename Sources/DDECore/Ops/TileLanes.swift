/// Lanes of neighbouring tiles for the Winograd transforms' passes along a row: eight
/// (`SIMD8<Float>`), four, two, or one (`Float`, the tail). The pass functions are written
/// once, generic over the lanes, and inlined at each width.
///
/// `loadPairs` reads 2 x width consecutive floats and splits them into the even and the odd
/// ones (tile t's first and second pixel when tiles step by two pixels); `loadQuads` splits
/// 4 x width floats four ways (tiles stepping by four). The stores are their inverses.
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
    static func loadQuads(_ p: UnsafePointer<Float>) -> (Self, Self, Self, Self)
    static func storeQuads(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ p: UnsafeMutablePointer<Float>)
    /// The sum of the lanes.
    var total: Float { get }
}

extension TileLanes {
    /// `self` times a constant (the transforms' coefficients).
    @inline(__always) func times(_ k: Float) -> Self { self * Self.splat(k) }
}

extension SIMD8<Float>: TileLanes {
    @inline(__always) public static func load(_ p: UnsafePointer<Float>, stride: Int) -> Self {
        var v = Self()
        for l in 0..<Self.scalarCount { v[l] = p[l * stride] }
        return v
    }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>, stride: Int) {
        for l in 0..<Self.scalarCount { p[l * stride] = v[l] }
    }
    public static var width: Int { 8 }
    @inline(__always) public static func splat(_ x: Float) -> Self { Self(repeating: x) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Self.self)
    }
    @inline(__always) public static func loadPairs(_ p: UnsafePointer<Float>) -> (even: Self, odd: Self) {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        return (v.evenHalf, v.oddHalf)
    }
    @inline(__always) public static func storePairs(_ a: Self, _ b: Self, _ p: UnsafeMutablePointer<Float>) {
        let v = SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }
    @inline(__always) public static func loadQuads(_ p: UnsafePointer<Float>) -> (Self, Self, Self, Self) {
        let (a0, a1, a2, a3) = SIMD4<Float>.loadQuads(p), (b0, b1, b2, b3) = SIMD4<Float>.loadQuads(p + 16)
        return (Self(lowHalf: a0, highHalf: b0), Self(lowHalf: a1, highHalf: b1),
                Self(lowHalf: a2, highHalf: b2), Self(lowHalf: a3, highHalf: b3))
    }
    @inline(__always) public static func storeQuads(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ p: UnsafeMutablePointer<Float>) {
        SIMD4<Float>.storeQuads(a.lowHalf, b.lowHalf, c.lowHalf, d.lowHalf, p)
        SIMD4<Float>.storeQuads(a.highHalf, b.highHalf, c.highHalf, d.highHalf, p + 16)
    }
    public var total: Float { sum() }
}

extension SIMD4<Float>: TileLanes {
    @inline(__always) public static func load(_ p: UnsafePointer<Float>, stride: Int) -> Self {
        var v = Self()
        for l in 0..<Self.scalarCount { v[l] = p[l * stride] }
        return v
    }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>, stride: Int) {
        for l in 0..<Self.scalarCount { p[l * stride] = v[l] }
    }
    public static var width: Int { 4 }
    @inline(__always) public static func splat(_ x: Float) -> Self { Self(repeating: x) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Self.self)
    }
    @inline(__always) public static func loadPairs(_ p: UnsafePointer<Float>) -> (even: Self, odd: Self) {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        return (v.evenHalf, v.oddHalf)
    }
    @inline(__always) public static func storePairs(_ a: Self, _ b: Self, _ p: UnsafeMutablePointer<Float>) {
        let v = SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
    @inline(__always) public static func loadQuads(_ p: UnsafePointer<Float>) -> (Self, Self, Self, Self) {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        let (e, o) = (v.evenHalf, v.oddHalf)
        return (e.evenHalf, o.evenHalf, e.oddHalf, o.oddHalf)
    }
    @inline(__always) public static func storeQuads(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ p: UnsafeMutablePointer<Float>) {
        let v = SIMD16(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1], a[2], b[2], c[2], d[2], a[3], b[3], c[3], d[3])
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }
    public var total: Float { sum() }
}

extension SIMD2<Float>: TileLanes {
    @inline(__always) public static func load(_ p: UnsafePointer<Float>, stride: Int) -> Self {
        var v = Self()
        for l in 0..<Self.scalarCount { v[l] = p[l * stride] }
        return v
    }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>, stride: Int) {
        for l in 0..<Self.scalarCount { p[l * stride] = v[l] }
    }
    public static var width: Int { 2 }
    @inline(__always) public static func splat(_ x: Float) -> Self { Self(repeating: x) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) public static func store(_ v: Self, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Self.self)
    }
    @inline(__always) public static func loadPairs(_ p: UnsafePointer<Float>) -> (even: Self, odd: Self) {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
        return (v.evenHalf, v.oddHalf)
    }
    @inline(__always) public static func storePairs(_ a: Self, _ b: Self, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: SIMD4(a[0], b[0], a[1], b[1]), as: SIMD4<Float>.self)
    }
    @inline(__always) public static func loadQuads(_ p: UnsafePointer<Float>) -> (Self, Self, Self, Self) {
        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        let (e, o) = (v.evenHalf, v.oddHalf)
        return (e.evenHalf, o.evenHalf, e.oddHalf, o.oddHalf)
    }
    @inline(__always) public static func storeQuads(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ p: UnsafeMutablePointer<Float>) {
        let v = SIMD8(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1])
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
    public var total: Float { sum() }
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
    @inline(__always) public static func loadQuads(_ p: UnsafePointer<Float>) -> (Self, Self, Self, Self) { (p[0], p[1], p[2], p[3]) }
    @inline(__always) public static func storeQuads(_ a: Self, _ b: Self, _ c: Self, _ d: Self, _ p: UnsafeMutablePointer<Float>) {
        p[0] = a; p[1] = b; p[2] = c; p[3] = d
    }
    public var total: Float { self }
}
