import CPNG
import Foundation

/// An 8-bit RGB image, row-major, 3 bytes a pixel.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        self.init(width: width, height: height,
                  pixels: [UInt8]((0..<(width * height)).flatMap { _ in [fill.0, fill.1, fill.2] }))
    }
}

/// PNG reading and writing through libpng's simplified API.
public enum PNGFile {
    /// Encodes an image as PNG bytes.
    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        var size: Int = 0
        let ok = image.pixels.withUnsafeBytes { src -> Bool in
            guard png_image_write_to_memory(&png, nil, &size, 0, src.baseAddress, 0, nil) != 0 else { return false }
            return true
        }
        guard ok, size > 0 else { throw PNGError("cannot encode a \(image.width)x\(image.height) PNG: \(message(&png))") }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = image.pixels.withUnsafeBytes { src in
            bytes.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&png, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
            }
        }
        guard written != 0 else { throw PNGError("cannot encode PNG: \(message(&png))") }
        return Array(bytes.prefix(size))
    }

    /// Decodes PNG bytes (any colour type or bit depth libpng reads) to 8-bit RGB; alpha is
    /// composited over black.
    public static func decode(_ bytes: [UInt8], name: String = "PNG data") throws -> RGBImage {
        guard !bytes.isEmpty else { throw PNGError("\(name): empty file, not a PNG") }
        // libpng stops reading after the image data, so a file cut inside its final IEND chunk
        // would pass; a truncated file is an error here.
        guard bytes.count >= 12, Array(bytes.suffix(12)) == iendChunk else {
            throw PNGError("\(name): truncated PNG (no IEND chunk at the end)")
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, bytes.count) }
        guard begun != 0 else { throw PNGError("\(name): not a readable PNG (\(message(&png)))") }
        png.format = UInt32(PNG_FORMAT_RGB)
        let width = Int(png.width), height = Int(png.height)
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            png_image_free(&png)
            throw PNGError("\(name): unsupported PNG size \(width)x\(height)")
        }
        // The rows take at least height * (1 + ceil(width / 8)) bytes before compression (1 bit a
        // pixel, a filter byte a row) and deflate shrinks at most 1032:1 (zlib's FAQ), so a
        // header claiming more than the file can hold is refused before the pixels are allocated.
        guard height * (1 + (width + 7) / 8) <= 1032 * bytes.count else {
            png_image_free(&png)
            throw PNGError("\(name): the header's \(width)x\(height) pixels cannot fit in \(bytes.count) bytes (corrupt PNG)")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let done = pixels.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { _ in png_image_finish_read(&png, nil, dst.baseAddress, 0, nil) }
        }
        guard done != 0 else { throw PNGError("\(name): corrupt or truncated PNG (\(message(&png)))") }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    public static func read(_ path: String) throws -> RGBImage {
        try decode(try FileIO.read(path), name: path)
    }

    /// Writes crash-safely (temporary file, fsync, rename).
    public static func write(_ image: RGBImage, to path: String) throws {
        try FileIO.writeAtomically(try encode(image), to: path)
    }

    private static let iendChunk: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]

    private static func message(_ png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { raw in
            let chars = raw.bindMemory(to: CChar.self)
            return String(cString: chars.baseAddress!)
        }
    }
}

public struct PNGError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
