import CTurboJPEG
import Foundation

/// JPEG reading (and writing, for tests and tools) through libjpeg-turbo's TurboJPEG API:
/// Pick-a-Pic's images are JPEG bytes. Decodes to 8-bit RGB (greyscale and CMYK JPEGs too).
public enum JPEGFile {
    /// Decodes JPEG bytes to RGB. A corrupt or truncated file is an error naming `name` (libjpeg's
    /// warnings, such as "Premature end of JPEG file", count as errors: the pixels are not whole).
    public static func decode(_ bytes: [UInt8], name: String = "JPEG data") throws -> RGBImage {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw PNGError("\(name): not a JPEG (no SOI marker)") }
        guard let handle = tjInitDecompress() else { throw PNGError("\(name): cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw PNGError("\(name): not a readable JPEG (\(message(handle)))") }
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw PNGError("\(name): unsupported JPEG size \(width)x\(height)")
        }
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let done = pixels.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                tjDecompress2(handle, src.baseAddress, UInt(bytes.count), dst.baseAddress, width, 0, height,
                              Int32(TJPF_RGB.rawValue), 0)
            }
        }
        guard done == 0 else { throw PNGError("\(name): corrupt or truncated JPEG (\(message(handle)))") }
        return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
    }

    /// Encodes an image as a baseline JPEG at `quality` (1...100), 4:2:0 chroma.
    public static func encode(_ image: RGBImage, quality: Int = 90) throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw PNGError("cannot start the JPEG encoder") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let done = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &buffer, &size, Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { if let buffer { tjFree(buffer) } }
        guard done == 0, let buffer else { throw PNGError("cannot encode a \(image.width)x\(image.height) JPEG: \(message(handle))") }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    private static func message(_ handle: tjhandle) -> String {
        String(cString: tjGetErrorStr2(handle))
    }
}
