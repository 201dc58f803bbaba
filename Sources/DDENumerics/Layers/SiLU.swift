/// SiLU (swish): `silu(x) = x * sigmoid(x) = x / (1 + exp(-x))`, PyTorch's `F.silu`, the
/// activation of every diffusers ResnetBlock2D, of the time embedding and before `conv_out`.
///
/// Elementwise over `count` floats (any shape) with `FastMath.exp` (about 1 ulp); the loops are
/// `PointwiseActivation`'s. In place is allowed (`out == x`, `dx == dOut`).
public enum SiLU: PointwiseActivation {
    /// silu(v)
    @inlinable @inline(__always)
    public static func value(_ v: Float) -> Float { v / (1 + FastMath.exp(-v)) }

    @inlinable @inline(__always)
    public static func value(_ v: SIMD8<Float>) -> SIMD8<Float> { v / (1 + FastMath.exp(-v)) }

    /// silu'(v) = s (1 + v (1 - s)),  s = sigmoid(v)
    @inlinable @inline(__always)
    public static func derivative(_ v: Float) -> Float {
        let s = 1 / (1 + FastMath.exp(-v))
        return s * (1 + v * (1 - s))
    }

    @inlinable @inline(__always)
    public static func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let s = 1 / (1 + FastMath.exp(-v))
        return s * (1 + v * (1 - s))
    }
}
