import Foundation

/// A safetensors file read into memory and validated strictly before anything is returned.
///
/// Every way a file can be wrong is an error whose one line names the file and, where it
/// applies, the tensor: a file shorter than the length field; a header length over the format's
/// 100 MB limit or past the end of the file; a header that is not UTF-8, not JSON or not an
/// object; duplicate keys; a tensor entry without `dtype`, `shape` or `data_offsets`, with an
/// unknown field or an unknown dtype; offsets that do not span `shape * dtype size` bytes or
/// reach past the data section (a truncated file); tensors that overlap, leave gaps, or do not
/// end exactly at the end of the file; `__metadata__` that is not string -> string.
/// Garbage input never crashes or hangs: validation is one linear pass with checked arithmetic.
///
/// Tensor data is copied out with one `memcpy` per tensor (`values`, `copy`); F16 and BF16
/// tensors are widened exactly to `Float` by `floats` and `copy`.
public struct SafeTensorsReader: Sendable {
    /// The file name errors start with.
    public let name: String
    /// The `__metadata__` object (empty when absent).
    public let metadata: [String: String]
    /// Every tensor, in data order (ascending offsets).
    public let tensors: [SafeTensorInfo]
    /// Bytes of the JSON header, padding included.
    public let headerByteCount: Int
    /// True when the metadata carries the data section's checksum (`SafeTensors.checksumKey`),
    /// which then matched; false for files without one (written before checksums, or by other
    /// tools). A checksum that does not match is an error of `init`.
    public let checksumVerified: Bool

    private let file: Data
    private let dataStart: Int
    private let index: [String: Int]

    /// Reads and validates the file at `path`.
    public init(contentsOf path: String) throws {
        try self.init(data: try SafeTensorsReader.readFile(path), name: path)
    }

    /// Validates `data` as a safetensors file; `name` starts every error message.
    public init(data: Data, name: String) throws {
        self.name = name
        file = data
        let parsed = try data.withUnsafeBytes { try SafeTensorsReader.validate($0, name: name) }
        metadata = parsed.metadata
        tensors = parsed.tensors
        headerByteCount = parsed.headerBytes
        dataStart = 8 + parsed.headerBytes
        if let recorded = metadata[SafeTensors.checksumKey] {
            let start = dataStart
            let actual = data.withUnsafeBytes { SafeTensors.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            guard actual == recorded else {
                throw SafeTensorsError(name, "the tensor data does not match the checksum in its metadata (\(SafeTensors.checksumKey) "
                                       + "\(recorded.excerpt), the data gives \(actual)): the file is damaged (a changed bit, a bad copy); use another copy or checkpoint")
            }
            checksumVerified = true
        } else {
            checksumVerified = false
        }
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    /// Tensor names in data order.
    public var names: [String] { tensors.map(\.name) }

    /// The entry of tensor `name`, if the file has it.
    public func tensor(_ name: String) -> SafeTensorInfo? { index[name].map { tensors[$0] } }

    /// The entry of tensor `name`; an error naming the file if it is missing.
    public func info(_ name: String) throws -> SafeTensorInfo {
        guard let t = tensor(name) else { throw SafeTensorsError(self.name, "no tensor \(SafeTensors.display(name))") }
        return t
    }

    /// The values of an F32 tensor (bit-exact), or of an F16/BF16 tensor widened exactly.
    public func floats(_ name: String) throws -> [Float] {
        let t = try info(name)
        try checkFloat(t)
        return try [Float](unsafeUninitializedCapacity: t.count) { buffer, initialized in
            if let base = buffer.baseAddress { try copyFloats(t, into: base) }
            initialized = t.count
        }
    }

    /// The values of a tensor whose dtype is exactly `T`'s (F32 for `Float`, U64 for `UInt64`, ...).
    public func values<T: SafeTensorsScalar>(_ name: String, as type: T.Type = T.self) throws -> [T] {
        let t = try info(name)
        guard t.dtype == T.safeTensorsDType else {
            throw SafeTensorsError(self.name, "tensor \(SafeTensors.display(name)) is \(t.dtype.rawValue), expected \(T.safeTensorsDType.rawValue)")
        }
        return [T](unsafeUninitializedCapacity: t.count) { buffer, initialized in
            withRawBytes(t) { src in UnsafeMutableRawBufferPointer(buffer).copyMemory(from: src) }
            initialized = t.count
        }
    }

    /// The index of the first NaN or infinity in a float tensor (F32, F16, BF16), or nil.
    public func firstNonFinite(_ name: String) throws -> Int? {
        let t = try info(name)
        try checkFloat(t)
        return withRawBytes(t) { src -> Int? in
            switch t.dtype {
            case .f32:
                for i in 0..<t.count where src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self) & 0x7f80_0000 == 0x7f80_0000 { return i }
            case .f16:
                for i in 0..<t.count where src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self) & 0x7c00 == 0x7c00 { return i }
            default:
                for i in 0..<t.count where src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self) & 0x7f80 == 0x7f80 { return i }
            }
            return nil
        }
    }

    /// Throws naming the file, the tensor and the index when tensor `name` holds a NaN or an
    /// infinity: weights loaded must be finite (a diverged run's checkpoint gives black images
    /// and scores, as base model a loss of NaN far from its cause).
    public func requireFinite(_ name: String) throws {
        if let i = try firstNonFinite(name) {
            throw SafeTensorsError(self.name, "tensor \(SafeTensors.display(name)) holds a NaN or an infinity (element \(i)); "
                                   + "a diverged run or a damaged file: use an earlier checkpoint")
        }
    }

    /// Copies tensor `name` into `destination` after checking it has exactly `shape`
    /// ("x.safetensors: tensor 'a' has shape [3,4], expected [4,3]"). F32 is copied bit-exactly,
    /// F16/BF16 widened; other dtypes are an error.
    public func copy(_ name: String, shape: [Int], into destination: UnsafeMutablePointer<Float>) throws {
        let t = try info(name)
        guard t.shape == shape else {
            throw SafeTensorsError(self.name, "tensor \(SafeTensors.display(name)) has shape \(SafeTensors.format(t.shape)), expected \(SafeTensors.format(shape))")
        }
        try copyFloats(t, into: destination)
    }

    /// Calls `body` with the raw little-endian bytes of tensor `name` (valid only inside `body`).
    public func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try withRawBytes(try info(name), body)
    }

    private func withRawBytes<R>(_ t: SafeTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try file.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[(dataStart + t.dataOffsets.lowerBound)..<(dataStart + t.dataOffsets.upperBound)]))
        }
    }

    private func copyFloats(_ t: SafeTensorInfo, into destination: UnsafeMutablePointer<Float>) throws {
        let n = t.count
        switch t.dtype {
        case .f32:
            withRawBytes(t) { UnsafeMutableRawPointer(destination).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(destination), byteCount: $0.count) }
        case .f16, .bf16:
            let half = t.dtype == .f16
            withRawBytes(t) { src in
                for i in 0..<n {
                    let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    destination[i] = half ? SafeTensors.float(fromHalf: bits) : SafeTensors.float(fromBFloat16: bits)
                }
            }
        default:
            try checkFloat(t)
        }
    }

    private func checkFloat(_ t: SafeTensorInfo) throws {
        switch t.dtype {
        case .f32, .f16, .bf16: return
        default: throw SafeTensorsError(name, "tensor \(SafeTensors.display(t.name)) is \(t.dtype.rawValue), expected a float tensor (F32, F16 or BF16)")
        }
    }

    // MARK: - Validation

    private static func validate(_ raw: UnsafeRawBufferPointer, name: String) throws
        -> (metadata: [String: String], tensors: [SafeTensorInfo], headerBytes: Int) {
        func fail(_ what: String) -> SafeTensorsError { SafeTensorsError(name, what) }

        guard raw.count >= 8 else {
            throw fail("file is \(raw.count) bytes, too short for the 8-byte header length (not a safetensors file?)")
        }
        let n = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard n <= UInt64(SafeTensors.maxHeaderBytes) else {
            throw fail("header length \(n) is absurd (the format allows at most \(SafeTensors.maxHeaderBytes) bytes; not a safetensors file?)")
        }
        let headerBytes = Int(n)
        guard headerBytes <= raw.count - 8 else {
            throw fail("header length \(headerBytes) exceeds the \(raw.count - 8) bytes after the length field (truncated file, or not a safetensors file?)")
        }
        let header = UnsafeRawBufferPointer(rebasing: raw[8..<(8 + headerBytes)])
        let dataBytes = raw.count - 8 - headerBytes

        guard isValidUTF8(header) else { throw fail("header is not valid UTF-8 (not a safetensors file?)") }
        let json: JSONValue
        do {
            json = try JSONValue.parse(header)
        } catch {
            throw fail("header is not valid JSON: \(error.message) at byte \(error.offset) of the header")
        }
        guard case let .object(members) = json else {
            throw fail("header is \(json.kind), expected a JSON object of tensors")
        }

        var metadata: [String: String] = [:]
        var tensors: [SafeTensorInfo] = []
        for (key, value) in members {
            if key == SafeTensors.metadataKey {
                guard case let .object(pairs) = value else {
                    throw fail("\(SafeTensors.metadataKey) is \(value.kind), expected an object of strings")
                }
                for (k, v) in pairs {
                    guard case let .string(s) = v else {
                        throw fail("\(SafeTensors.metadataKey) value for \(SafeTensors.display(k)) is \(v.kind), expected a string")
                    }
                    metadata[k] = s
                }
            } else {
                tensors.append(try tensorInfo(key, value, fail))
            }
        }

        // Tile check, in data order (ties broken by end, then name, so errors are deterministic).
        tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
                || ($0.dataOffsets == $1.dataOffsets && $0.name < $1.name)
        }
        if let t = tensors.first(where: { $0.dataOffsets.upperBound > dataBytes }) {
            throw fail("tensor \(SafeTensors.display(t.name)) needs bytes \(t.dataOffsets.lowerBound)..\(t.dataOffsets.upperBound) but the data section has \(dataBytes) bytes (truncated file?)")
        }
        var end = 0
        var previous: SafeTensorInfo?
        for t in tensors {
            let begin = t.dataOffsets.lowerBound
            if begin > end {
                if let p = previous {
                    throw fail("gap of \(begin - end) bytes between tensor \(SafeTensors.display(p.name)) (ends at byte \(end)) and tensor \(SafeTensors.display(t.name)) (begins at byte \(begin))")
                }
                throw fail("first tensor \(SafeTensors.display(t.name)) begins at byte \(begin), leaving a gap at the start of the data section")
            }
            if begin < end, let p = previous {
                throw fail("tensors \(SafeTensors.display(p.name)) (bytes \(p.dataOffsets.lowerBound)..\(p.dataOffsets.upperBound)) and \(SafeTensors.display(t.name)) (bytes \(begin)..\(t.dataOffsets.upperBound)) overlap")
            }
            end = t.dataOffsets.upperBound
            previous = t
        }
        guard end == dataBytes else {
            throw fail("the data section has \(dataBytes) bytes but the tensors end at byte \(end) (\(dataBytes - end) trailing bytes: corrupt file?)")
        }
        return (metadata, tensors, headerBytes)
    }

    private static func tensorInfo(_ name: String, _ value: JSONValue, _ fail: (String) -> SafeTensorsError) throws -> SafeTensorInfo {
        let shown = SafeTensors.display(name)
        guard case let .object(fields) = value else {
            throw fail("tensor \(shown) is \(value.kind), expected an object with dtype, shape and data_offsets")
        }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (key, v) in fields {
            switch key {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: throw fail("tensor \(shown) has unknown field \(SafeTensors.display(key)) (expected dtype, shape and data_offsets)")
            }
        }
        guard let dtypeValue else { throw fail("tensor \(shown) has no dtype") }
        guard let shapeValue else { throw fail("tensor \(shown) has no shape") }
        guard let offsetsValue else { throw fail("tensor \(shown) has no data_offsets") }

        guard case let .string(dtypeName) = dtypeValue else { throw fail("tensor \(shown) has dtype \(dtypeValue.kind), expected a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw fail("tensor \(shown) has unknown dtype \(SafeTensors.display(dtypeName)) (known: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard case let .array(dims) = shapeValue, dims.allSatisfy({ $0.nonNegativeInt != nil }) else {
            throw fail("tensor \(shown) has an invalid shape (expected an array of non-negative integers)")
        }
        let shape = dims.map { $0.nonNegativeInt! }
        guard case let .array(offsets) = offsetsValue, offsets.count == 2,
              let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt, begin <= end else {
            throw fail("tensor \(shown) has invalid data_offsets (expected [begin, end] with 0 <= begin <= end)")
        }
        guard let bytes = SafeTensors.checkedByteCount(shape, elementSize: dtype.size) else {
            throw fail("tensor \(shown) has shape \(SafeTensors.format(shape)) whose size overflows")
        }
        guard end - begin == bytes else {
            throw fail("tensor \(shown) has shape \(SafeTensors.format(shape)) \(dtype.rawValue) = \(bytes) bytes but data_offsets [\(begin),\(end)] span \(end - begin) bytes")
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // `transcode` with stoppingOnError reports the first invalid sequence (overlong forms,
        // surrogates and truncated sequences included).
        let hadError = transcode(bytes.bindMemory(to: UInt8.self).makeIterator(), from: UTF8.self, to: UTF32.self,
                                 stoppingOnError: true) { _ in }
        return !hadError
    }

    /// The whole file, read with POSIX calls so the error says why it could not be read.
    private static func readFile(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafeTensorsError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafeTensorsError(path, "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        var data = Data(count: size)
        let got: Int = data.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < size {
                let n = read(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
            return offset
        }
        guard got == size else {
            throw SafeTensorsError(path, "read \(got) of \(size) bytes: \(String(cString: strerror(errno)))")
        }
        return data
    }
}

extension SafeTensors {
    /// A tensor or key name for a one-line message: `'name'`, or a JSON-escaped form if it holds
    /// control characters, cut after 200 characters.
    static func display(_ name: String) -> String {
        let cut = name.count > 200 ? String(name.prefix(200)) + "..." : name
        if cut.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return JSONValue.quoted(cut) }
        return "'\(cut)'"
    }
}
