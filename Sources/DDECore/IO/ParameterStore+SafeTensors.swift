/// Checkpoints of a `ParameterStore` as safetensors.
///
/// Layout: every slot as an F32 tensor under its own name, in slot order, so the start of the
/// data section is the parameter buffer byte for byte (diffusers-compatible names and shapes).
/// Further per-parameter flat buffers (AdamW moments, EMA weights) follow as *one flat tensor
/// each*, named by the caller (e.g. `"adam.m"`) with shape `[store.count]`: a buffer is one
/// `memcpy` in and out, and its layout is the store's slot table, which the checkpoint already
/// records. Training state that is not a tensor goes in `metadata`.
///
///     try store.write(to: path, metadata: ["step": "1200"], buffers: ["adam.m": m, "adam.v": v])
///     let file = try store.load(from: path, allowExtra: { $0.hasPrefix("adam.") })
///     try store.readBuffer("adam.m", from: file, into: m)
extension ParameterStore {
    /// A writer already holding every parameter (and `buffers`, each as one flat tensor of
    /// shape `[count]`); add more tensors, then `write(to:)`.
    public func safeTensorsWriter(metadata: [String: String] = [:],
                                  buffers: KeyValuePairs<String, FloatBuffer> = [:]) throws -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: metadata)
        writer.checksummed = true
        guard params.capacity >= count else {
            throw SafeTensorsError(writer.name, "parameter store is not sealed; nothing to write")
        }
        for (name, buffer) in buffers where buffer.capacity < count {
            throw SafeTensorsError(writer.name, "buffer '\(name)' holds \(buffer.capacity) floats, fewer than the store's \(count)")
        }
        writer.reserveCapacity(count * MemoryLayout<Float>.stride * (1 + buffers.count))
        for slot in slots {
            try writer.add(slot.name, shape: slot.shape, from: parameters(slot))
        }
        for (name, buffer) in buffers {
            try writer.add(name, shape: [count], from: buffer.pointer)
        }
        return writer
    }

    /// Writes the parameters (and `buffers`) crash-safely to `path`.
    public func write(to path: String, metadata: [String: String] = [:],
                      buffers: KeyValuePairs<String, FloatBuffer> = [:]) throws {
        var writer = try safeTensorsWriter(metadata: metadata, buffers: buffers)
        writer.name = path
        try writer.write(to: path)
    }

    /// Reads `path` and loads every parameter from it; returns the file for its metadata and
    /// extra tensors. See `load(from file:allowExtra:)`.
    @discardableResult
    public func load(from path: String, allowExtra: (String) -> Bool = { _ in false }) throws -> SafeTensorsReader {
        let file = try SafeTensorsReader(contentsOf: path)
        try load(from: file, allowExtra: allowExtra)
        return file
    }

    /// Loads every parameter from `file`. Every slot must be present with its exact shape, as
    /// F32 (or F16/BF16, widened exactly); a tensor that is not a slot is an error unless
    /// `allowExtra(name)` accepts it (e.g. optimizer state under `"adam."`), so nothing is ignored
    /// silently. Everything is checked before the first value is copied: a failed load leaves
    /// the store as it was.
    ///
    /// `only` limits the load to some slots (those of one network of a model held in several
    /// files); `fileName` maps a slot's name to the file's name for it (a prefix the file lacks).
    public func load(from file: SafeTensorsReader, allowExtra: (String) -> Bool = { _ in false },
                     only: (ParameterSlot) -> Bool = { _ in true }, fileName: (String) -> String = { $0 }) throws {
        guard params.capacity >= count else {
            throw SafeTensorsError(file.name, "parameter store is not sealed; nothing to load into")
        }
        let slots = self.slots.filter(only).map { (slot: $0, name: fileName($0.name)) }
        let missing = slots.filter { file.tensor($0.name) == nil }
        if let first = missing.first {
            let more = missing.count > 1 ? " and \(missing.count - 1) more" : ""
            throw SafeTensorsError(file.name, "missing tensor \(SafeTensors.display(first.name))\(more) (a checkpoint of another architecture or config?)")
        }
        for (slot, name) in slots {
            let t = try file.info(name)
            guard t.shape == slot.shape else {
                throw SafeTensorsError(file.name, "tensor \(SafeTensors.display(name)) has shape \(SafeTensors.format(t.shape)), expected \(SafeTensors.format(slot.shape)) (a checkpoint of another architecture or config?)")
            }
            guard t.dtype == .f32 || t.dtype == .f16 || t.dtype == .bf16 else {
                throw SafeTensorsError(file.name, "tensor \(SafeTensors.display(name)) is \(t.dtype.rawValue), expected F32, F16 or BF16")
            }
        }
        let names = Set(slots.map(\.name))
        for t in file.tensors where !names.contains(t.name) && !allowExtra(t.name) {
            throw SafeTensorsError(file.name, "unexpected tensor \(SafeTensors.display(t.name)), not a parameter of this model (a checkpoint of another architecture or config?)")
        }
        for (_, name) in slots { try file.requireFinite(name) }
        for (slot, name) in slots {
            try file.copy(name, shape: slot.shape, into: parameters(slot))
        }
    }

    /// Copies the flat tensor `name` (shape `[count]`, as written by `write(to:buffers:)`) into
    /// `buffer`, e.g. an AdamW moment or the EMA weights.
    public func readBuffer(_ name: String, from file: SafeTensorsReader, into buffer: FloatBuffer) throws {
        guard buffer.capacity >= count else {
            throw SafeTensorsError(file.name, "buffer for '\(name)' holds \(buffer.capacity) floats, fewer than the store's \(count)")
        }
        try file.requireFinite(name)
        try file.copy(name, shape: [count], into: buffer.pointer)
    }
}
