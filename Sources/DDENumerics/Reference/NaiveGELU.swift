import Foundation

extension Naive {
    /// The exact GELU by its definition, `0.5 x (1 + erf(x / sqrt 2))`, erf from the C library in Double.
    @usableFromInline static func geluScalar<T: BinaryFloatingPoint>(_ v: T) -> T {
        T(0.5 * Double(v) * (1 + Foundation.erf(Double(v) / 2.0.squareRoot())))
    }

    /// CLIP's quick GELU by its definition, `x / (1 + exp(-1.702 x))`, exp in Double.
    @inlinable public static func quickGELU<T: BinaryFloatingPoint>(_ x: [T]) -> [T] {
        x.map { T(Double($0) / (1 + Foundation.exp(-1.702 * Double($0)))) }
    }

    /// x: (R, 2I)  out: (R, I) — diffusers' GEGLU gate: `x[:, :I] * gelu(x[:, I:])`.
    @inlinable public static func geglu<T: BinaryFloatingPoint>(_ x: [T], rows: Int, inner: Int) -> [T] {
        var out = [T](repeating: 0, count: rows * inner)
        for r in 0..<rows {
            for i in 0..<inner { out[r * inner + i] = x[r * 2 * inner + i] * geluScalar(x[r * 2 * inner + inner + i]) }
        }
        return out
    }
}
