import Foundation

/// Builds a safetensors file: tensors are appended in call order, each copied once (one
/// `memcpy`) into the data section, then `write(to:)` stores header + data crash-safely through
/// `FileIO.writeAtomically`.
///
/// The output is a pure function of the inputs: tensors in insertion order, metadata keys
/// sorted, compact JSON in the field order of the reference writer
/// (`{"dtype":..,"shape":..,"data_offsets":..}`), `__metadata__` first and omitted when empty,
/// header padded with spaces to a multiple of 8 bytes so the data section is 8-byte aligned.
/// Tensors are not reordered, so callers that mix dtypes and want every tensor naturally aligned
/// for memory-mapping readers add the 8-byte ones first.
///
///     var writer = SafeTensorsWriter(metadata: ["step": "1200"])
///     try writer.add("conv_in.weight", shape: [64, 3, 3, 3], from: pointer)
///     try writer.add("rng.noise", shape: [4], rng.stateArray)   // U64
///     try writer.write(to: "ckpt.safetensors")
public struct SafeTensorsWriter {
    /// String -> string metadata, stored under `__metadata__`.
    public var metadata: [String: String]
    /// Tensors added so far, in data order.
    public private(set) var tensors: [SafeTensorInfo] = []
    /// Prefix of error messages (the destination, once known).
    public var name: String
    /// Adds the data section's checksum to the metadata (`SafeTensors.checksumKey`), which
    /// `SafeTensorsReader` verifies: dde-train's model files and checkpoints. Off by default, so
    /// other files match the reference writer byte for byte.
    public var checksummed = false

    private var data = Data()
    private var names = Set<String>()

    public init(metadata: [String: String] = [:], name: String = "safetensors writer") {
        self.metadata = metadata
        self.name = name
    }

    /// Bytes of tensor data added so far.
    public var dataByteCount: Int { data.count }

    /// Reserves room for `bytes` bytes of tensor data, so large checkpoints are copied once.
    public mutating func reserveCapacity(_ bytes: Int) {
        guard bytes > data.count else { return }
        var grown = Data(capacity: bytes)
        grown.append(data)
        data = grown
    }

    /// Appends a tensor of `shape` whose `shape.product` elements of type `T` start at
    /// `pointer` (copied now; the pointer need not outlive the call).
    public mutating func add<T: SafeTensorsScalar>(_ name: String, shape: [Int], from pointer: UnsafePointer<T>) throws {
        let bytes = try checkedBytes(name, shape: shape, dtype: T.safeTensorsDType)
        append(name, dtype: T.safeTensorsDType, shape: shape, UnsafeRawBufferPointer(start: pointer, count: bytes))
    }

    /// Appends a tensor of `shape` holding `values` (row-major; `values.count` must match).
    public mutating func add<T: SafeTensorsScalar>(_ name: String, shape: [Int], _ values: [T]) throws {
        let bytes = try checkedBytes(name, shape: shape, dtype: T.safeTensorsDType)
        guard bytes == values.count * MemoryLayout<T>.stride else {
            throw SafeTensorsError(self.name, "tensor '\(name)' has shape \(SafeTensors.format(shape)) but \(values.count) values")
        }
        values.withUnsafeBytes { append(name, dtype: T.safeTensorsDType, shape: shape, $0) }
    }

    /// Appends a tensor of any dtype from its raw little-endian bytes (e.g. F16, BOOL).
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: UnsafeRawBufferPointer) throws {
        let expected = try checkedBytes(name, shape: shape, dtype: dtype)
        guard bytes.count == expected else {
            throw SafeTensorsError(self.name, "tensor '\(name)' has shape \(SafeTensors.format(shape)) \(dtype.rawValue) = \(expected) bytes but \(bytes.count) bytes were given")
        }
        append(name, dtype: dtype, shape: shape, bytes)
    }

    /// The whole file: length, padded header, data.
    public func encoded() throws -> Data {
        let header = self.header()
        guard header.count <= SafeTensors.maxHeaderBytes else {
            throw SafeTensorsError(name, "header of \(header.count) bytes exceeds the format's limit of \(SafeTensors.maxHeaderBytes) (too many tensors or too much metadata)")
        }
        var out = Data(capacity: 8 + header.count + data.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(header)
        out.append(data)
        return out
    }

    /// Writes the file crash-safely (temporary file, fsync, rename): a reader sees the old file
    /// or the complete new one.
    public func write(to path: String) throws {
        var named = self
        named.name = path
        try FileIO.writeAtomically([UInt8](try named.encoded()), to: path)
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes.
    func header() -> Data {
        var metadata = self.metadata
        if checksummed { metadata[SafeTensors.checksumKey] = data.withUnsafeBytes { SafeTensors.checksum($0) } }
        var json = "{"
        if !metadata.isEmpty {
            json += JSONValue.quoted(SafeTensors.metadataKey) + ":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { JSONValue.quoted($0.key) + ":" + JSONValue.quoted($0.value) }
                .joined(separator: ",")
            json += "}"
        }
        for (i, t) in tensors.enumerated() {
            if i > 0 || !metadata.isEmpty { json += "," }
            json += JSONValue.quoted(t.name)
            json += ":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":\(SafeTensors.format(t.shape))"
            json += ",\"data_offsets\":[\(t.dataOffsets.lowerBound),\(t.dataOffsets.upperBound)]}"
        }
        json += "}"
        var bytes = Data(json.utf8)
        let padding = (8 - bytes.count % 8) % 8
        bytes.append(contentsOf: [UInt8](repeating: 0x20, count: padding))
        return bytes
    }

    private func checkedBytes(_ name: String, shape: [Int], dtype: SafeTensorsDType) throws -> Int {
        guard name != SafeTensors.metadataKey else {
            throw SafeTensorsError(self.name, "'\(name)' is reserved for metadata and cannot name a tensor")
        }
        guard !names.contains(name) else { throw SafeTensorsError(self.name, "duplicate tensor '\(name)'") }
        guard let bytes = SafeTensors.checkedByteCount(shape, elementSize: dtype.size) else {
            throw SafeTensorsError(self.name, "tensor '\(name)' has an invalid shape \(SafeTensors.format(shape))")
        }
        return bytes
    }

    private mutating func append(_ name: String, dtype: SafeTensorsDType, shape: [Int], _ bytes: UnsafeRawBufferPointer) {
        let begin = data.count
        if let base = bytes.baseAddress, bytes.count > 0 {
            data.append(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        }
        names.insert(name)
        tensors.append(SafeTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<data.count))
    }
}
