extension Naive {
    /// a: (N, C1, H, W)  b: (N, C2, H, W)  out: (N, C1+C2, H, W), a's channels first.
    @inlinable public static func channelConcat<T>(_ a: [T], _ b: [T], n: Int, c1: Int, c2: Int, h: Int, w: Int) -> [T] {
        let hw = h * w
        var out: [T] = []
        out.reserveCapacity(n * (c1 + c2) * hw)
        for i in 0..<n {
            for ch in 0..<(c1 + c2) {
                for k in 0..<hw {
                    out.append(ch < c1 ? a[(i * c1 + ch) * hw + k] : b[(i * c2 + ch - c1) * hw + k])
                }
            }
        }
        return out
    }

    /// x: (N, C1+C2, H, W) -> (a: (N, C1, H, W), b: (N, C2, H, W))
    @inlinable public static func channelSplit<T>(_ x: [T], n: Int, c1: Int, c2: Int, h: Int, w: Int) -> ([T], [T]) {
        let hw = h * w
        var a: [T] = [], b: [T] = []
        for i in 0..<n {
            for ch in 0..<(c1 + c2) {
                for k in 0..<hw {
                    let v = x[(i * (c1 + c2) + ch) * hw + k]
                    if ch < c1 { a.append(v) } else { b.append(v) }
                }
            }
        }
        return (a, b)
    }
}
