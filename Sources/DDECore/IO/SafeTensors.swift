/// The safetensors checkpoint format (huggingface/safetensors, as written by its Rust core):
///
///     u64 little-endian N | N bytes of UTF-8 JSON header | data section
///
/// The header is one JSON object: tensor name -> `{"dtype": "F32", "shape": [..],
/// "data_offsets": [begin, end]}` (byte offsets into the data section, `end` exclusive), plus an
/// optional `"__metadata__"` object of string -> string. Tensors are row-major, little-endian,
/// and tile the data section exactly: in offset order each begins where the previous one ends,
/// the first at 0 and the last ending at the end of the file. Writers pad the header with
/// spaces so the data section starts on an 8-byte boundary.
///
/// `SafeTensorsWriter` writes the format, `SafeTensorsReader` reads and validates it, and
/// `ParameterStore+SafeTensors.swift` maps a parameter store onto it.
public enum SafeTensors {
    /// The largest header a reader accepts, as in the reference implementation
    /// (`MAX_HEADER_SIZE` = 100,000,000 bytes): a larger length field means a corrupt file.
    public static let maxHeaderBytes = 100_000_000

    /// The key of the string -> string metadata object in the header.
    public static let metadataKey = "__metadata__"

    /// The metadata key of dde-train's checksum of the data section: 16 hex digits of its 64-bit
    /// FNV-1a (`ContentDigest`), which changes with any changed byte (each step of FNV-1a is a
    /// bijection of the state, so one differing byte leaves a differing hash). Written into every
    /// model file and checkpoint (`SafeTensorsWriter.checksummed`), verified by the reader.
    public static let checksumKey = "dde.data_fnv1a64"

    /// The checksum of a data section.
    static func checksum(_ data: UnsafeRawBufferPointer) -> String {
        var digest = ContentDigest()
        digest.add(data)
        return digest.hex
    }
}

#if _endian(big)
#error("safetensors data is little-endian; SafeTensorsReader/Writer copy bytes as they are in memory")
#endif

/// Element types of the safetensors format (the byte-sized ones; the sub-byte F4/F6 types of
/// newer versions are rejected as unknown).
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16", u32 = "U32", i32 = "I32", u64 = "U64", i64 = "I64"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
    case f16 = "F16", bf16 = "BF16", f32 = "F32", f64 = "F64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
        case .u16, .i16, .f16, .bf16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64: return 8
        }
    }
}

/// A Swift scalar type stored as a safetensors dtype with the same in-memory layout, so a
/// tensor is copied with one `memcpy`.
public protocol SafeTensorsScalar: BitwiseCopyable {
    static var safeTensorsDType: SafeTensorsDType { get }
}

extension Float: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .f32 } }
extension Double: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .f64 } }
extension UInt8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u8 } }
extension Int8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i8 } }
extension UInt16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u16 } }
extension Int16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i16 } }
extension UInt32: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u32 } }
extension Int32: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i32 } }
extension UInt64: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u64 } }
extension Int64: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i64 } }

/// One tensor's entry in a safetensors header.
public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range inside the data section (after the header).
    public let dataOffsets: Range<Int>

    public init(name: String, dtype: SafeTensorsDType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    /// Number of elements (1 for a scalar, shape `[]`).
    public var count: Int { shape.reduce(1, *) }
}

/// A safetensors file could not be written, read or matched; one line naming the file and,
/// where it applies, the tensor.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ file: String, _ what: String) { description = "\(file): \(what)" }
}

extension SafeTensors {
    /// `[2,3]` - the shape notation of error messages.
    static func format(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

    /// Number of elements of `shape`, or nil if a dimension is negative or the product of the
    /// dimensions times `elementSize` overflows `Int` (headers are untrusted input).
    static func checkedByteCount(_ shape: [Int], elementSize: Int) -> Int? {
        var n = elementSize
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            n = p
        }
        return n
    }

    /// IEEE half -> float, exact (every half is a float).
    static func float(fromHalf h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }  // inf, NaN
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }

    /// bfloat16 -> float, exact (bfloat16 is the top half of a float).
    static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
}
