// Tensor: the memory every kernel works in. `FloatBuffer` is a grow-only, 64-byte aligned buffer
// of Float with a stable pointer (activations, parameters, gradients and optimizer moments all live
// in one), and it counts allocations for the bench; `Workspace` is the scratch memory a model's
// layers share, with the thread count, convolution algorithm and profiler they run with; `ContentDigest` is the FNV-1a fingerprint stages
// use to notice damaged files and changed inputs. The bottom of the numeric core: it uses no other
// folder.

import Synchronization

/// A grow-only, 64-byte aligned buffer of `Float` with a stable pointer.
///
/// Activations, parameters, gradients and optimizer moments all live in `FloatBuffer`s.
/// The pointer stays valid until `reserve(_:)` has to grow the buffer; after a growth
/// the old contents are *not* preserved (buffers are workspaces, not arrays).
public final class FloatBuffer: @unchecked Sendable {
    public private(set) var capacity: Int
    public private(set) var pointer: UnsafeMutablePointer<Float>

    /// A zero-filled buffer of `count` floats.
    public init(count: Int) {
        capacity = max(count, 1)
        pointer = FloatBuffer.allocate(capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { FloatBuffer.release(pointer, capacity) }

    /// Makes room for at least `count` floats. Contents are undefined after a growth.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            FloatBuffer.release(pointer, capacity)
            capacity = count
            pointer = FloatBuffer.allocate(capacity)
            pointer.initialize(repeating: 0, count: capacity)
        }
        return pointer
    }

    /// Sets the first `count` floats (default: all) to zero.
    public func zero(_ count: Int? = nil) {
        pointer.update(repeating: 0, count: count ?? capacity)
    }

    /// A copy of the first `count` floats.
    public func array(_ count: Int? = nil) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: count ?? capacity))
    }

    /// Tensor allocations (creations and growths) so far in this process: `bench` prints how
    /// many a training step makes once the buffers have grown (the goal is none).
    public static var allocations: Int { allocationCount.load(ordering: .relaxed) }
    /// Floats held by all live buffers now.
    public static var liveFloats: Int { liveFloatCount.load(ordering: .relaxed) }
    private static let allocationCount = Atomic<Int>(0)
    private static let liveFloatCount = Atomic<Int>(0)

    private static func release(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        liveFloatCount.subtract(count, ordering: .relaxed)
        pointer.deallocate()
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        allocationCount.add(1, ordering: .relaxed)
        liveFloatCount.add(count, ordering: .relaxed)
        return UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }
}
