// Reference: the naive twins. `Naive` (declared in this file) holds a plain-loop version of each
// layer (`Naive.conv2d`, `groupNorm`, `linear`, ...), of an AdamW update and of the whole U-Net,
// written from the definitions and generic over BinaryFloatingPoint so tests can run them in
// Double and check the fast kernels and their gradients by finite differences. Only the tests
// call them. Uses `UNetConfig` (Model); the align classifier's twin extends `Naive` in
// DDECore/Annotators.

/// Plain-loop twins of the fast kernels, generic so tests can run them in `Double` for
/// finite-difference gradient checks. Slow by design; never used on a hot path.
public enum Naive {}

extension Naive {
    /// x: (N, IN)  w: (OUT, IN)  b: (OUT) or empty  out: (N, OUT)
    @inlinable public static func linear<T: BinaryFloatingPoint>(_ x: [T], _ w: [T], _ b: [T], n: Int,
                                                      inFeatures: Int, outFeatures: Int) -> [T] {
        var out = [T](repeating: 0, count: n * outFeatures)
        for i in 0..<n {
            for o in 0..<outFeatures {
                var s: T = b.isEmpty ? 0 : b[o]
                for j in 0..<inFeatures { s += x[i * inFeatures + j] * w[o * inFeatures + j] }
                out[i * outFeatures + o] = s
            }
        }
        return out
    }
}
