extension Naive {
    /// x: (N, C, H, W)  out: (N, C) — the mean of each (n, c) plane, summed in order.
    @inlinable public static func globalAveragePool<T: BinaryFloatingPoint>(_ x: [T], n: Int, c: Int, h: Int, w: Int) -> [T] {
        let hw = h * w
        return (0..<(n * c)).map { p in
            var s: T = 0
            for i in 0..<hw { s += x[p * hw + i] }
            return s / T(hw)
        }
    }
}
