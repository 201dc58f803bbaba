/// Where one named tensor lives inside the flat parameter buffer.
public struct ParameterSlot: Sendable, Equatable {
    public let name: String
    public let offset: Int
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
}

/// Parameters, gradients and every per-parameter state (AdamW moments, EMA weights) as
/// parallel flat buffers, with one name -> (offset, shape) table.
///
/// Layers register their tensors once (`add`), then read `params.pointer + slot.offset` and
/// add into `grads.pointer + slot.offset`. An optimizer step, a clip or a NaN scan is one loop
/// over `count` floats; a checkpoint is the table plus one write.
public final class ParameterStore: @unchecked Sendable {
    public private(set) var slots: [ParameterSlot] = []
    public private(set) var count = 0
    public private(set) var params = FloatBuffer(count: 0)
    public private(set) var grads = FloatBuffer(count: 0)
    private var sealed = false

    public init() {}

    /// Registers a tensor. Must happen before `seal()`.
    public func add(_ name: String, _ shape: [Int]) -> ParameterSlot {
        precondition(!sealed, "ParameterStore: \(name) added after seal()")
        precondition(!slots.contains { $0.name == name }, "ParameterStore: duplicate tensor \(name)")
        let slot = ParameterSlot(name: name, offset: count, shape: shape)
        slots.append(slot)
        count += slot.count
        return slot
    }

    /// Allocates the zeroed parameter and gradient buffers once every tensor is registered.
    public func seal() {
        precondition(!sealed)
        sealed = true
        params = FloatBuffer(count: count)
        grads = FloatBuffer(count: count)
    }

    public func slot(named name: String) -> ParameterSlot? { slots.first { $0.name == name } }

    public func zeroGrads() { grads.zero(count) }

    /// A view of one tensor's parameters.
    public func parameters(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float> { params.pointer + slot.offset }

    /// A view of one tensor's gradient.
    public func gradient(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float> { grads.pointer + slot.offset }
}
