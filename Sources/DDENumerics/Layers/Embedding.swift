/// A token embedding table, PyTorch's `nn.Embedding(V, D)` (no padding index, no max norm):
/// `weight` is `(V, D)`, row v is token v's vector.
public struct Embedding: Sendable {
    public let vocabularySize: Int
    public let dimension: Int
    public let weight: ParameterSlot

    public init(_ store: ParameterStore, _ name: String, vocabularySize: Int, dimension: Int) {
        self.vocabularySize = vocabularySize
        self.dimension = dimension
        weight = store.add("\(name).weight", [vocabularySize, dimension])
    }

    /// PyTorch's default: every entry standard normal, N(0, 1).
    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        rng.fillNormal(store.parameters(weight), count: weight.count)
    }

    /// ids: (N), each in 0..<V  w: (V, D)  out: (N, D) — out[i] = w[ids[i]]
    public func forward(_ ids: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Float>, n: Int,
                        _ store: ParameterStore) {
        gather(n, out, store) { Int(ids[$0]) }
    }

    /// ids: (N), each in 0..<V  w: (V, D)  out: (N, D) — out[i] = w[ids[i]]
    public func forward(_ ids: UnsafePointer<Int>, _ out: UnsafeMutablePointer<Float>, n: Int,
                        _ store: ParameterStore) {
        gather(n, out, store) { ids[$0] }
    }

    /// dOut: (N, D)  ids: (N)  dw: (V, D), added into — dw[ids[i]] += dOut[i]; repeated ids
    /// accumulate. The ids carry no gradient.
    public func backward(dOut: UnsafePointer<Float>, ids: UnsafePointer<Int32>, n: Int, _ store: ParameterStore) {
        scatterAdd(n, dOut, store) { Int(ids[$0]) }
    }

    /// dOut: (N, D)  ids: (N)  dw: (V, D), added into — dw[ids[i]] += dOut[i]; repeated ids
    /// accumulate. The ids carry no gradient.
    public func backward(dOut: UnsafePointer<Float>, ids: UnsafePointer<Int>, n: Int, _ store: ParameterStore) {
        scatterAdd(n, dOut, store) { ids[$0] }
    }

    /// A bad id would read or write outside the table; unlike `precondition`, this check
    /// survives `-Ounchecked`. It is a programming error (the tokenizer's job), so it traps.
    @inline(__always)
    private func checkID(_ v: Int) {
        if v < 0 || v >= vocabularySize { fatalError("Embedding: token id \(v) outside 0..<\(vocabularySize)") }
    }

    // Serial: N is a batch of prompts' tokens (hundreds of rows), and repeated ids would race
    // in a parallel scatter.
    @inline(__always)
    private func gather(_ n: Int, _ out: UnsafeMutablePointer<Float>, _ store: ParameterStore, _ id: (Int) -> Int) {
        let w = store.parameters(weight), d = dimension
        for i in 0..<n {
            let v = id(i)
            checkID(v)
            (out + i * d).update(from: w + v * d, count: d)
        }
    }

    @inline(__always)
    private func scatterAdd(_ n: Int, _ dOut: UnsafePointer<Float>, _ store: ParameterStore, _ id: (Int) -> Int) {
        let g = store.gradient(weight), d = dimension
        for i in 0..<n {
            let v = id(i)
            checkID(v)
            let row = g + v * d, src = dOut + i * d
            for k in 0..<d { row[k] += src[k] }
        }
    }
}
