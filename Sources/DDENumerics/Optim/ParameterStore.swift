// Optim: parameters and what updates them. `ParameterStore` keeps every tensor of a model in one
// flat parameter buffer and a parallel gradient buffer, named by `ParameterSlot`s, so an update, a
// clip or a NaN scan is one loop; `AdamW` (PyTorch's semantics), `EMA`, `LearningRateSchedule`,
// `clipGradNorm`, `scaleGradients` (accumulation) and `FiniteCheck` all work on those buffers. A
// frozen store (a reference model) refuses an optimizer and keeps derived forms of its weights.
// Builds on Tensor, Ops and Profile.

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
    /// See `freeze()`.
    public private(set) var isFrozen = false
    /// LoRA adapters on this store's linear layers (`LoRAAdapters`), which `Linear` applies.
    public var lora: LoRAAdapters?
    /// The weights of `Linear` layers (by name): what LoRA adapters may target.
    public private(set) var linearWeights: Set<String> = []
    /// Whether backward computes this store's gradients. False while only adapters train (a
    /// LoRA fine-tune): layers then propagate input gradients but skip their weights' gradients.
    public var trainsWeights = true
    private var derivedForms: [DerivedKey: FloatBuffer] = [:]

    private struct DerivedKey: Hashable {
        let offset: Int
        let kind: Int
    }

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

    /// Records that `slot` is a `Linear` layer's weight (`Linear.init`), the layers that apply LoRA adapters.
    public func markLinear(_ slot: ParameterSlot) { linearWeights.insert(slot.name) }

    /// The `Linear` layers' weights, in slot order.
    public var linearWeightSlots: [ParameterSlot] { slots.filter { linearWeights.contains($0.name) } }

    public func zeroGrads() { grads.zero(count) }

    /// Declares that the parameters will not change again (a frozen reference model): forms
    /// derived from them, such as a convolution's Winograd-transformed weights, are then computed
    /// once and kept (`derived`). An optimizer refuses a frozen store.
    public func freeze() {
        precondition(sealed, "ParameterStore.freeze() before seal()")
        isFrozen = true
    }

    /// A frozen store's form `kind` of the tensor in `slot` (`count` floats), computed by
    /// `compute` on first use and kept. Not thread-safe: call from one thread at a time.
    public func derived(_ slot: ParameterSlot, kind: Int, count: Int,
                        compute: (UnsafeMutablePointer<Float>) -> Void) -> UnsafeMutablePointer<Float> {
        precondition(isFrozen, "ParameterStore.derived: only a frozen store keeps derived forms")
        let key = DerivedKey(offset: slot.offset, kind: kind)
        if let kept = derivedForms[key] { return kept.pointer }
        let buffer = FloatBuffer(count: count)
        compute(buffer.pointer)
        derivedForms[key] = buffer
        return buffer.pointer
    }

    /// A view of one tensor's parameters.
    public func parameters(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float> { params.pointer + slot.offset }

    /// A view of one tensor's gradient.
    public func gradient(_ slot: ParameterSlot) -> UnsafeMutablePointer<Float> { grads.pointer + slot.offset }
}
