import XCTest
import DDECore

/// A sealed store with the given (name, shape) tensors.
func makeStore(_ tensors: [(String, [Int])]) -> ParameterStore {
    let store = ParameterStore()
    for (name, shape) in tensors { _ = store.add(name, shape) }
    store.seal()
    return store
}

/// A store big enough that `parallelChunks` splits it over two threads (count >= 2 * 2^14),
/// laid out so the split point (35_005) falls inside the excluded-from-decay "norm.weight"
/// run, and decayed/excluded runs alternate.
func makeLargeStore() -> ParameterStore {
    makeStore([("conv.weight", [100, 200]), ("norm.weight", [30_000]), ("out.bias", [10]),
               ("out.weight", [10, 2_000])])
}

/// Copies `values` into a flat buffer (all of params, grads, or a parallel buffer).
func fill(_ p: UnsafeMutablePointer<Float>, _ values: [Float]) {
    values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: values.count) }
}

func array(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> [Float] {
    Array(UnsafeBufferPointer(start: p, count: count))
}
