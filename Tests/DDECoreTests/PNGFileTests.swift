import XCTest
import DDECore

final class PNGFileTests: XCTestCase {
    func testRoundTripIsLossless() throws {
        var rng = RandomStream(seed: 3)
        let image = RGBImage(width: 7, height: 5, pixels: (0..<105).map { _ in UInt8(rng.int(below: 256)) })
        let bytes = try PNGFile.encode(image)
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "PNG signature")
        XCTAssertEqual(try PNGFile.decode(bytes), image)
    }

    func testTruncatedAndCorruptInputThrowsWithTheName() throws {
        let image = RGBImage(width: 16, height: 16, fill: (200, 10, 30))
        let bytes = try PNGFile.encode(image)
        for cut in [0, 4, 20, bytes.count / 2, bytes.count - 3] {
            XCTAssertThrowsError(try PNGFile.decode(Array(bytes.prefix(cut)), name: "x.png"), "cut \(cut) of \(bytes.count)") { error in
                XCTAssertTrue("\(error)".hasPrefix("x.png:"), "\(error)")
            }
        }
        // Flipped bytes inside the compressed data of a noisy image: a CRC and zlib failure.
        var rng = RandomStream(seed: 4)
        let noisy = RGBImage(width: 16, height: 16, pixels: (0..<768).map { _ in UInt8(rng.int(below: 256)) })
        var corrupt = try PNGFile.encode(noisy)
        for i in stride(from: corrupt.count / 3, to: corrupt.count / 2, by: 5) { corrupt[i] ^= 0x5A }
        XCTAssertThrowsError(try PNGFile.decode(corrupt, name: "y.png"))
    }

    func testWriteIsAtomicAndReadable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let image = RGBImage(width: 3, height: 2, fill: (1, 2, 3))
        try PNGFile.write(image, to: "\(dir)/a.png")
        XCTAssertEqual(try PNGFile.read("\(dir)/a.png"), image)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["a.png"], "no temporary file left behind")
        XCTAssertThrowsError(try PNGFile.write(image, to: "\(dir)/missing-folder/a.png"))
    }
}
