import XCTest
import DDECore

final class FolderImagesTests: XCTestCase {
    func makeFolder(_ lines: [String], images: [String: RGBImage]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-folder-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        for (name, image) in images { try PNGFile.write(image, to: folder + "/" + name) }
        try FileIO.writeAtomically(Array(lines.joined(separator: "\n").utf8), to: folder + "/captions.jsonl")
        return folder
    }

    /// Images are resized to sample_size by area averaging: a 32x32 image of two colour halves
    /// becomes an 8x8 image with the same halves, in [-1, 1].
    func testLoadsAndResizes() throws {
        var pixels = [UInt8]()
        for _ in 0..<32 { for x in 0..<32 { pixels += x < 16 ? [255, 0, 0] : [0, 0, 255] } }
        let image = RGBImage(width: 32, height: 32, pixels: pixels)
        let lines = (0..<3).map { "{\"file\": \"img\($0).png\", \"caption\": \"a red and blue picture \($0)\"}" }
        let folder = try makeFolder(lines, images: ["img0.png": image, "img1.png": image, "img2.png": image])
        let data = try FolderImages(folder: folder, sampleSize: 8, skipBad: false)
        var rng = RandomStream(seed: 1)
        var prompts: [String] = []
        let batch = FloatBuffer(count: 2 * 3 * 64)
        data.fillBatch(batch.pointer, count: 2, rng: &rng, prompts: &prompts)
        XCTAssertEqual(prompts.count, 2)
        XCTAssertTrue(prompts.allSatisfy { $0.hasPrefix("a red and blue picture") })
        let x = batch.array(3 * 64)
        XCTAssertEqual(x[0], 1, accuracy: 1e-6, "red channel, left half")
        XCTAssertEqual(x[7], -1, accuracy: 1e-6, "red channel, right half")
        XCTAssertEqual(x[2 * 64 + 7], 1, accuracy: 1e-6, "blue channel, right half")
        XCTAssertTrue(data.vocabularyCaptions.count == 3)
    }

    func testBadLinesNameFileAndLineOrAreSkippedAndCounted() throws {
        let image = RGBImage(width: 4, height: 4, fill: (9, 9, 9))
        let lines = [
            "{\"file\": \"a.png\", \"caption\": \"fine\"}",
            "not json",
            "{\"file\": \"a.png\"}",
            "{\"file\": \"missing.png\", \"caption\": \"x\"}",
            "{\"file\": \"a.png\", \"caption\": \"fine again\"}",
        ]
        let folder = try makeFolder(lines, images: ["a.png": image])
        XCTAssertThrowsError(try FolderImages(folder: folder, sampleSize: 8, skipBad: false)) { error in
            XCTAssertEqual("\(error)", "\(folder)/captions.jsonl:2: not a JSON object")
        }
        let data = try FolderImages(folder: folder, sampleSize: 8, skipBad: true)
        XCTAssertEqual(data.skipped.count, 3)
        XCTAssertTrue(data.skipped[1].hasPrefix("\(folder)/captions.jsonl:3: no \"caption\""), data.skipped[1])
        XCTAssertTrue(data.skipped[2].hasPrefix("\(folder)/captions.jsonl:4: "), data.skipped[2])
    }
}
