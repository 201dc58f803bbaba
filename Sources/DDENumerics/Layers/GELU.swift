/// The exact GELU, PyTorch's `F.gelu(x)` (approximate="none"): `x Φ(x) = 0.5 x (1 + erf(x/√2))`,
/// the activation inside diffusers' `GEGLU` feed-forward.
///
/// `erf` is Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7; in Float, with `FastMath.exp`,
/// at most 4.2e-7 over [-6, 6], `GELUTests`), the approximation PyTorch's
/// own vectorised CPU `erf` uses, evaluated with `FastMath.exp`, so it runs eight lanes at a
/// time (glibc's `erff` is a call per element). Scalar and SIMD8 forms do the same operations in
/// the same order.
public enum GELU {
    @usableFromInline static let p: Float = 0.3275911
    @usableFromInline static let a1: Float = 0.254829592
    @usableFromInline static let a2: Float = -0.284496736
    @usableFromInline static let a3: Float = 1.421413741
    @usableFromInline static let a4: Float = -1.453152027
    @usableFromInline static let a5: Float = 1.061405429
    @usableFromInline static let inverseSqrt2: Float = 0.70710678118654752
    @usableFromInline static let inverseSqrt2Pi: Float = 0.39894228040143268

    /// erf(x), |error| <= 5e-7.
    @inlinable @inline(__always)
    public static func erf(_ x: Float) -> Float { erfAndGaussian(x).erf }

    @inlinable @inline(__always)
    public static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> { erfAndGaussian(x).erf }

    /// erf(x) and the exp(-x^2) it is computed from (for gelu', the normal density's factor).
    @inlinable @inline(__always)
    public static func erfAndGaussian(_ x: Float) -> (erf: Float, gaussian: Float) {
        let z = abs(x)
        let t = 1 / (1 + p * z)
        var poly = a5 * t + a4
        poly = poly * t + a3
        poly = poly * t + a2
        poly = poly * t + a1
        poly = poly * t
        let gaussian = FastMath.exp(-(z * z))
        let r = 1 - poly * gaussian
        return (x < 0 ? -r : r, gaussian)
    }

    @inlinable @inline(__always)
    public static func erfAndGaussian(_ x: SIMD8<Float>) -> (erf: SIMD8<Float>, gaussian: SIMD8<Float>) {
        let z: SIMD8<Float> = x.replacing(with: -x, where: x .< 0)
        let one = SIMD8<Float>(repeating: 1)
        let t: SIMD8<Float> = one / (one + p * z)
        var poly: SIMD8<Float> = a5 * t + a4
        poly = poly * t + a3
        poly = poly * t + a2
        poly = poly * t + a1
        poly = poly * t
        let gaussian: SIMD8<Float> = FastMath.exp(-(z * z))
        var r: SIMD8<Float> = one - poly * gaussian
        r.replace(with: -r, where: x .< 0)
        return (r, gaussian)
    }

    @inlinable @inline(__always)
    public static func value(_ v: Float) -> Float { 0.5 * v * (erf(v * inverseSqrt2) + 1) }

    @inlinable @inline(__always)
    public static func value(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let e: SIMD8<Float> = erf(v * inverseSqrt2)
        return 0.5 * v * (e + 1)
    }

    /// gelu'(v) = Φ(v) + v φ(v)
    @inlinable @inline(__always)
    public static func derivative(_ v: Float) -> Float { valueAndDerivative(v).derivative }

    @inlinable @inline(__always)
    public static func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> { valueAndDerivative(v).derivative }

    /// gelu(v) and gelu'(v) from one exponential: erf's `exp(-z²)` with z = |v|/√2 is
    /// `exp(-v²/2)`, the normal density's factor, so backward (which needs both) pays one
    /// `FastMath.exp` and one division per element instead of three and two.
    @inlinable @inline(__always)
    public static func valueAndDerivative(_ v: Float) -> (value: Float, derivative: Float) {
        let (e, gaussian) = erfAndGaussian(v * inverseSqrt2)
        let cdf = 0.5 * (e + 1)
        return (v * cdf, cdf + v * (inverseSqrt2Pi * gaussian))
    }

    @inlinable @inline(__always)
    public static func valueAndDerivative(_ v: SIMD8<Float>) -> (value: SIMD8<Float>, derivative: SIMD8<Float>) {
        let (e, gaussian) = erfAndGaussian(v * inverseSqrt2)
        let cdf: SIMD8<Float> = 0.5 * (e + 1)
        return (v * cdf, cdf + v * (inverseSqrt2Pi * gaussian))
    }
}
