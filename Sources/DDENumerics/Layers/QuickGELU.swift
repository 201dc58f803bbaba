/// CLIP's `quick_gelu`: `x * sigmoid(1.702 x)`, the activation of the text encoder's MLP
/// (transformers' `QuickGELUActivation`, `hidden_act = "quick_gelu"`).
///
/// Elementwise with `FastMath.exp`; the loops are `PointwiseActivation`'s. In place is allowed.
public enum QuickGELU: PointwiseActivation {
    @usableFromInline static let slope: Float = 1.702

    @inlinable @inline(__always)
    public static func value(_ v: SIMD8<Float>) -> SIMD8<Float> { v / (1 + FastMath.exp(-slope * v)) }

    @inlinable @inline(__always)
    public static func value(_ v: Float) -> Float { v / (1 + FastMath.exp(-slope * v)) }

    /// d/dv [v s(1.702 v)] = s + 1.702 v s (1 - s)
    @inlinable @inline(__always)
    public static func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let s = 1 / (1 + FastMath.exp(-slope * v))
        return s + slope * v * s * (1 - s)
    }

    @inlinable @inline(__always)
    public static func derivative(_ v: Float) -> Float {
        let s = 1 / (1 + FastMath.exp(-slope * v))
        return s + slope * v * s * (1 - s)
    }
}
