import Foundation

/// The sinusoidal embedding of the diffusion step, diffusers'
/// `get_timestep_embedding(timesteps, C0, flip_sin_to_cos=True, downscale_freq_shift=0)`
/// as `UNet2DModel` calls it (`time_embedding_type="positional"`, `freq_shift=0`):
///
///     half = C0 / 2,  freq_i = exp(-ln(10000) * i / half),  i = 0..<half
///     out[n] = [cos(k_n freq_0) ... cos(k_n freq_{half-1}), sin(k_n freq_0) ... sin(k_n freq_{half-1})]
///
/// (diffusers builds `[sin, cos]` and `flip_sin_to_cos` swaps the halves.) No parameters.
/// `UNet2DConditionModel`'s config may set `flip_sin_to_cos = False` (`[sin, cos]`) and
/// `freq_shift = s` (`freq_i = exp(-ln(10000) * i / (half - s))`); the defaults are the above.
///
/// Precision: computed in Double and rounded once to Float, so each entry is within 0.5 ulp
/// of the exact value. diffusers computes in float32 (`freq` rounded, `k * freq` rounded,
/// then sin/cos of the rounded argument), so its entries differ from these by up to ~4e-5
/// absolute for k <= 1000 (measured against a float32 emulation: 3.6e-5 at k = 932, C0 = 64;
/// `TimestepEmbeddingTests`). That is within the float32 tolerance of the exported-model
/// comparison, which is checked there against diffusers itself.
///
/// Only even `C0` is supported (diffusers zero-pads an odd one). There is no backward: the
/// steps are integers and carry no gradient; the layers after the embedding get theirs.
public enum TimestepEmbedding {
    /// steps: (N) diffusion steps k (integral values)  out: (N, C0)
    public static func forward(_ steps: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, n: Int, dimension: Int,
                               flipSinToCos: Bool = true, freqShift: Int = 0) {
        for i in 0..<n { embed(Double(steps[i]), out + i * dimension, dimension, flipSinToCos, freqShift) }
    }

    /// steps: (N) diffusion steps k  out: (N, C0)
    public static func forward(_ steps: UnsafePointer<Int>, _ out: UnsafeMutablePointer<Float>, n: Int, dimension: Int) {
        for i in 0..<n { embed(Double(steps[i]), out + i * dimension, dimension, true, 0) }
    }

    /// One row: [cos(k freq), sin(k freq)] (flipped) or [sin, cos]. N*C0 is small (64 x 64), so no table is kept.
    static func embed(_ k: Double, _ row: UnsafeMutablePointer<Float>, _ dimension: Int, _ flip: Bool, _ shift: Int) {
        precondition(dimension > 0 && dimension % 2 == 0, "TimestepEmbedding: dimension \(dimension) must be even")
        let half = dimension / 2
        precondition(half > shift, "TimestepEmbedding: freq_shift \(shift) must be below half the dimension \(half)")
        let (first, second) = flip ? (0, half) : (half, 0)
        for i in 0..<half {
            let arg = k * Foundation.exp(-Foundation.log(10000.0) * Double(i) / Double(half - shift))
            row[first + i] = Float(Foundation.cos(arg))
            row[second + i] = Float(Foundation.sin(arg))
        }
    }
}
