/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TensorFlow's record files use it,
/// and TensorFlow's mask over it (`MaskedCrc` in tensorflow/core/lib/hash/crc32c.h): a CRC
/// stored beside the data it covers is rotated and offset so that a CRC of data holding CRCs
/// stays well distributed.
public enum CRC32C {
    /// One byte's table, built once.
    private static let table: [UInt32] = (0..<256).map { byte in
        var c = UInt32(byte)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    /// The CRC-32C of `bytes` (`checksum(Array("123456789".utf8)) == 0xE306_9283`).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    /// TensorFlow's masked CRC: rotate right by 15 bits, add 0xa282ead8.
    public static func masked<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
