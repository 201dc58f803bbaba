import Foundation

extension Naive {
    /// steps: (N)  out: (N, C0) — diffusers' `get_timestep_embedding` written as it is there:
    /// exponent `-ln(10000) * arange(half) / (half - downscale_freq_shift)`, `emb = [sin, cos]`,
    /// then the halves swapped when `flip_sin_to_cos` (UNet2DModel: flipped, shift 0).
    @inlinable public static func timestepEmbedding<T: BinaryFloatingPoint>(_ steps: [Double], dimension: Int,
                                                                          flipSinToCos: Bool = true, freqShift: Int = 0) -> [T] {
        let half = dimension / 2, denominator = Double(half - freqShift)
        var out: [T] = []
        for k in steps {
            var emb: [Double] = []
            for i in 0..<half { emb.append(Foundation.sin(k * Foundation.exp(-Foundation.log(10000.0) * Double(i) / denominator))) }
            for i in 0..<half { emb.append(Foundation.cos(k * Foundation.exp(-Foundation.log(10000.0) * Double(i) / denominator))) }
            let flipped = flipSinToCos ? Array(emb[half...]) + Array(emb[..<half]) : emb
            out += flipped.map { T($0) }
        }
        return out
    }
}
