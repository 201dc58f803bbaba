import Foundation

extension Naive {
    /// x: (count)  out: (count) — x / (1 + exp(-x)), exp taken in Double.
    @inlinable public static func silu<T: BinaryFloatingPoint>(_ x: [T]) -> [T] {
        x.map { siluScalar($0) }
    }

    @usableFromInline static func siluScalar<T: BinaryFloatingPoint>(_ v: T) -> T {
        v / (1 + T(Foundation.exp(-Double(v))))
    }
}
