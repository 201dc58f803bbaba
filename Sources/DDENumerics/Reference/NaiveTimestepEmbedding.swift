import Foundation

extension Naive {
    /// steps: (N)  out: (N, C0) — diffusers' `get_timestep_embedding` with
    /// `flip_sin_to_cos=True, downscale_freq_shift=0` written as it is there: exponent
    /// `-ln(10000) * arange(half) / half`, `emb = [sin, cos]`, then the halves swapped.
    @inlinable public static func timestepEmbedding<T: BinaryFloatingPoint>(_ steps: [Double], dimension: Int) -> [T] {
        let half = dimension / 2
        var out: [T] = []
        for k in steps {
            var emb: [Double] = []
            for i in 0..<half { emb.append(Foundation.sin(k * Foundation.exp(-Foundation.log(10000.0) * Double(i) / Double(half)))) }
            for i in 0..<half { emb.append(Foundation.cos(k * Foundation.exp(-Foundation.log(10000.0) * Double(i) / Double(half)))) }
            let flipped = Array(emb[half...]) + Array(emb[..<half])
            out += flipped.map { T($0) }
        }
        return out
    }
}
