extension Naive {
    /// Direct convolution, the definition: x: (N, C, H, W)  w: (OC, C, K, K)  b: (OC)
    /// out: (N, OC, H', W') with `H' = (H + 2p - K)/s + 1`, zero padding.
    @inlinable public static func conv2d<T: BinaryFloatingPoint>(_ x: [T], _ w: [T], _ b: [T], n: Int, channels c: Int,
                                                      height h: Int, width wd: Int, outChannels oc: Int,
                                                      kernel k: Int, stride s: Int, padding p: Int) -> [T] {
        let ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1
        var out = [T](repeating: 0, count: n * oc * ho * wo)
        for i in 0..<n {
            for o in 0..<oc {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var sum = b[o]
                        for ci in 0..<c {
                            for ky in 0..<k {
                                let iy = oy * s - p + ky
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<k {
                                    let ix = ox * s - p + kx
                                    if ix < 0 || ix >= wd { continue }
                                    sum += x[((i * c + ci) * h + iy) * wd + ix] * w[((o * c + ci) * k + ky) * k + kx]
                                }
                            }
                        }
                        out[((i * oc + o) * ho + oy) * wo + ox] = sum
                    }
                }
            }
        }
        return out
    }
}
