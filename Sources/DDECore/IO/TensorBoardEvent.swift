import Foundation

/// TensorBoard's event files, written without TensorFlow: a file is a sequence of records
/// (TFRecord: length as little-endian UInt64, its masked CRC-32C, the data, the data's masked
/// CRC-32C), each record one `Event` protocol buffer (tensorflow/core/util/event.proto): field 1
/// `wall_time` (double), 2 `step` (int64), 3 `file_version` (string, the first event:
/// "brain.Event:2"), 5 `summary`. A `Summary` (summary.proto) holds repeated `Value`s (field 1):
/// `tag` (1), `simple_value` (2, float) or `image` (4: height 1, width 2, colorspace 3,
/// encoded_image_string 4, a PNG). TensorBoard reads `simple_value` as a scalar and the image as
/// an image (its data-compat layer turns both into its plugins' forms).
public enum TensorBoardEvent {
    /// The first event of every file.
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.bytes(3, Array("brain.Event:2".utf8))
        return event.bytes
    }

    /// One event holding scalars (`tag`, value) at `step`.
    public static func scalars(_ values: [(tag: String, value: Double)], step: Int, wallTime: Double) -> [UInt8] {
        var summary = ProtoWriter()
        for v in values {
            var value = ProtoWriter()
            value.bytes(1, Array(v.tag.utf8))
            value.float(2, Float(v.value))
            summary.bytes(1, value.bytes)
        }
        return event(summary: summary.bytes, step: step, wallTime: wallTime)
    }

    /// One event holding an image (`png`: a PNG file's bytes, `width` x `height`, RGB).
    public static func image(tag: String, png: [UInt8], width: Int, height: Int, step: Int, wallTime: Double) -> [UInt8] {
        var image = ProtoWriter()
        image.varint(1, UInt64(height))
        image.varint(2, UInt64(width))
        image.varint(3, 3)  // colorspace 3: RGB
        image.bytes(4, png)
        var value = ProtoWriter()
        value.bytes(1, Array(tag.utf8))
        value.bytes(4, image.bytes)
        var summary = ProtoWriter()
        summary.bytes(1, value.bytes)
        return event(summary: summary.bytes, step: step, wallTime: wallTime)
    }

    private static func event(summary: [UInt8], step: Int, wallTime: Double) -> [UInt8] {
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.bytes(5, summary)
        return event.bytes
    }

    /// `data` framed as one TFRecord.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var length = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { length[i] = UInt8(truncatingIfNeeded: UInt64(data.count) >> (8 * UInt64(i))) }
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }

    /// The records of a file's bytes, in order, up to the first one that is cut short or fails
    /// its checksums (what a killed writer leaves): `(data, end offset)`.
    public static func records(_ bytes: [UInt8]) -> [(data: [UInt8], end: Int)] {
        var out: [([UInt8], Int)] = [], at = 0
        while at + 12 <= bytes.count {
            let length = Array(bytes[at..<at + 8])
            guard readUInt32(bytes, at + 8) == CRC32C.masked(length) else { break }
            let n = length.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard n <= UInt64(bytes.count - at - 16) else { break }
            let data = Array(bytes[at + 12..<at + 12 + Int(n)])
            guard readUInt32(bytes, at + 12 + Int(n)) == CRC32C.masked(data) else { break }
            at += 16 + Int(n)
            out.append((data, at))
        }
        return out
    }

    /// An event's `step` (0 when absent, as protocol buffers read a missing field), or nil when
    /// `data` is not a well-formed message.
    public static func step(ofEvent data: [UInt8]) -> Int? {
        var reader = ProtoReader(data)
        var step = 0
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return nil }
            if field == 2 && wire == 0 {
                guard let v = reader.varint() else { return nil }
                step = Int(Int64(bitPattern: v))
            } else if !reader.skip(wire) {
                return nil
            }
        }
        return step
    }

    private static func littleEndian(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }

    private static func readUInt32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }
}

/// The few protocol-buffer encodings an event needs (varint, 64-bit, 32-bit, length-delimited).
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func key(_ field: Int, _ wire: UInt64) { rawVarint(UInt64(field) << 3 | wire) }

    mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, 0)
        rawVarint(value)
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        let bits = value.bitPattern
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        let bits = value.bitPattern
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i)))) }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        rawVarint(UInt64(value.count))
        bytes += value
    }
}

/// Reads the fields of a protocol buffer well enough to find one and skip the others.
struct ProtoReader {
    let data: [UInt8]
    var at = 0

    init(_ data: [UInt8]) { self.data = data }

    var atEnd: Bool { at >= data.count }

    mutating func varint() -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while at < data.count, shift < 64 {
            let b = data[at]
            at += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
        return nil
    }

    mutating func key() -> (field: Int, wire: Int)? {
        guard let k = varint() else { return nil }
        return (Int(k >> 3), Int(k & 7))
    }

    /// Skips a field's value of wire type `wire`; false when it runs past the end.
    mutating func skip(_ wire: Int) -> Bool {
        switch wire {
        case 0: return varint() != nil
        case 1: at += 8
        case 2:
            guard let n = varint(), n <= UInt64(data.count - at) else { return false }
            at += Int(n)
        case 5: at += 4
        default: return false
        }
        return at <= data.count
    }
}
