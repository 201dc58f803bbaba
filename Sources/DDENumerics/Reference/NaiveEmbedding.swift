extension Naive {
    /// ids: (N)  table: (V, D)  out: (N, D) — row ids[i] of the table.
    @inlinable public static func embedding<T>(_ ids: [Int], table: [T], dimension: Int) -> [T] {
        var out: [T] = []
        for id in ids {
            for k in 0..<dimension { out.append(table[id * dimension + k]) }
        }
        return out
    }
}
