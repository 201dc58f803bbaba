/// An image file of either format dde-train reads, told apart by its first bytes (not its
/// name): PNG (`89 50 4E 47`) or JPEG (`FF D8`). Anything else is an error naming the file.
public enum ImageFile {
    public static func decode(_ bytes: [UInt8], name: String) throws -> RGBImage {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGFile.decode(bytes, name: name) }
        if bytes.starts(with: [0xFF, 0xD8]) { return try JPEGFile.decode(bytes, name: name) }
        if bytes.isEmpty { throw PNGError("\(name): empty file, not an image") }
        throw PNGError("\(name): neither PNG nor JPEG (dde-train reads those two)")
    }

    public static func read(_ path: String) throws -> RGBImage {
        try decode(try FileIO.read(path), name: path)
    }
}
