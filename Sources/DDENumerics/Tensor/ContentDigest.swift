/// A 64-bit FNV-1a fingerprint of bytes, fed piece by piece: how a stage notices that a file it
/// finished was damaged, or that an input (a base model, a pairs set) is another one. It catches
/// accidents, not tampering.
public struct ContentDigest: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        value = h
    }

    public mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }

    public mutating func add(_ floats: UnsafePointer<Float>, count: Int) {
        add(UnsafeRawBufferPointer(start: floats, count: count * MemoryLayout<Float>.stride))
    }

    public mutating func add(_ floats: [Float]) { floats.withUnsafeBytes { add($0) } }


    /// The text's UTF-8 bytes, then a zero byte, so "ab"+"c" and "a"+"bc" differ.
    public mutating func add(_ text: String) {
        add(Array(text.utf8) + [0])
    }

    /// 16 hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public static func of(_ bytes: [UInt8]) -> ContentDigest {
        var d = ContentDigest()
        d.add(bytes)
        return d
    }
}
