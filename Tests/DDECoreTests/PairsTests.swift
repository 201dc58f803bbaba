import XCTest
import DDECore

final class PairsTests: XCTestCase {
    func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-pairs-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Pairs from a tiny model: written in Pick-a-Pic columns, read back, winners scored above losers.
    func testBuildWritesPairsThatLoadBack() throws {
        let folder = temporaryFolder()
        let config = try ConfigLoader.load(file: nil, overrides: [
            "out=\(folder)", "block_out_channels=8,16", "norm_num_groups=4", "sample_size=8", "encoder.dim=8",
            "pretrain.batch=8", "pretrain.steps=3", "pretrain.val_images=4", "pretrain.sample_every=0", "sample.steps=3",
            "pairs.samples_per_prompt=6", "pairs.min_gap=0",
        ])
        let base = try Pretrainer(settings: try RunSettings(config), folder: folder + "/pretrain", build: BuildInfo(commit: "test"),
                                  observer: SilentObserver()).run()
        let (model, _) = try Checkpoint.loadModel(base)
        let prompts = Array(ShapesWorld.split().train.prefix(3)).map(Caption.init)
        let summary = try PairsBuilder.build(model, annotator: AestheticAnnotator(), prompts: prompts, settings: try RunSettings(config),
                                             folder: folder + "/pairs")
        XCTAssertGreaterThanOrEqual(summary.pairs, 3)
        XCTAssertLessThanOrEqual(summary.pairs, 9, "at most samples/2 pairs per prompt")
        let pairs = try PreferencePairs.load(folder + "/pairs/pairs.jsonl", size: 8, skipBad: false)
        XCTAssertEqual(pairs.pairs.count, summary.pairs)
        XCTAssertEqual(pairs.annotator, "aesthetic")
        for p in pairs.pairs {
            XCTAssertGreaterThan(p.winnerScore, p.loserScore)
            XCTAssertTrue(prompts.map(\.text).contains(p.caption))
            XCTAssertNotEqual(p.winner, p.loser)
        }
        let text = try String(contentsOfFile: folder + "/pairs/pairs.jsonl", encoding: .utf8)
        XCTAssertTrue(text.contains("\"label_0\":0") && text.contains("\"label_0\":1"), "winners on both sides")
    }

    /// A bad line names the file and line: not JSON, a missing column, a missing image, a label
    /// outside {0, 0.5, 1}; with data.skip_bad they are skipped and counted; ties are counted.
    func testBadLinesAreErrorsNamingFileAndLine() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try PNGFile.write(RGBImage(width: 8, height: 8, fill: (10, 20, 30)), to: folder + "/a.png")
        try PNGFile.write(RGBImage(width: 8, height: 8, fill: (200, 20, 30)), to: folder + "/b.png")
        let good = "{\"caption\":\"x\",\"image_0\":\"a.png\",\"image_1\":\"b.png\",\"label_0\":1,\"score_0\":0.9,\"score_1\":0.1,\"annotator\":\"pick\"}"
        let cases: [(String, String)] = [
            ("not json", "not a JSON object"),
            ("{\"caption\":\"x\",\"image_0\":\"a.png\",\"label_0\":1,\"score_0\":0.9,\"score_1\":0.1,\"annotator\":\"pick\"}", "missing column 'image_1'"),
            (good.replacingOccurrences(of: "b.png", with: "nope.png"), "nope.png"),
            (good.replacingOccurrences(of: "\"label_0\":1", with: "\"label_0\":0.7"), "label_0 is 0.7"),
            (good.replacingOccurrences(of: "\"b.png\"", with: "null"), "column 'image_1' is null"),
        ]
        for (line, expected) in cases {
            let path = folder + "/pairs.jsonl"
            try FileIO.writeAtomically(Array((good + "\n" + line + "\n").utf8), to: path)
            XCTAssertThrowsError(try PreferencePairs.load(path, size: 8, skipBad: false)) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path):2: "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
            let skipped = try PreferencePairs.load(path, size: 8, skipBad: true)
            XCTAssertEqual(skipped.pairs.count, 1)
            XCTAssertEqual(skipped.skipped.count, 1)
        }
        // A byte-order mark before the first line (Windows editors) is not part of it.
        try FileIO.writeAtomically(Array(("\u{FEFF}" + good + "\n").utf8), to: folder + "/pairs.jsonl")
        XCTAssertEqual(try PreferencePairs.load(folder + "/pairs.jsonl", size: 8, skipBad: false).pairs.count, 1)
        let tie = good.replacingOccurrences(of: "\"label_0\":1", with: "\"label_0\":0.5")
        try FileIO.writeAtomically(Array((good + "\n" + tie + "\n").utf8), to: folder + "/pairs.jsonl")
        let loaded = try PreferencePairs.load(folder + "/pairs.jsonl", size: 8, skipBad: false)
        XCTAssertEqual(loaded.ties, 1)
        XCTAssertEqual(loaded.pairs.count, 1)
        XCTAssertEqual(loaded.pairs[0].winner[0], 10 / 127.5 - 1, accuracy: 1e-6, "label_0 = 1: image_0 wins")
    }
}

/// Users' pairs (issue 18): Pick-a-Pic rows with JPEG images of any size, resized and
/// centre-cropped as the diffusers DPO script does.
final class PickAPicRowsTests: XCTestCase {
    func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-pickapic-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func gradient(width: Int, height: Int) -> RGBImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { pixels += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), 128] }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    func testJPEGDecodesWhatItEncodedAndRefusesDamage() throws {
        let image = gradient(width: 40, height: 24)
        let jpeg = try JPEGFile.encode(image, quality: 95)
        let back = try ImageFile.decode(jpeg, name: "g.jpg")
        XCTAssertEqual([back.width, back.height], [40, 24])
        let meanError = zip(back.pixels, image.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(image.pixels.count)
        XCTAssertLessThan(meanError, 3, "quality 95: within a few levels")
        XCTAssertThrowsError(try ImageFile.decode(Array(jpeg.dropLast(60)), name: "cut.jpg")) {
            XCTAssertTrue("\($0)".hasPrefix("cut.jpg: corrupt or truncated JPEG"), "in the scan: \($0)")
        }
        XCTAssertThrowsError(try ImageFile.decode(Array(jpeg.prefix(jpeg.count / 3)), name: "cut.jpg")) {
            XCTAssertTrue("\($0)".hasPrefix("cut.jpg: not a readable JPEG"), "in the headers: \($0)")
        }
        XCTAssertThrowsError(try ImageFile.decode([1, 2, 3, 4], name: "x.bin")) { XCTAssertTrue("\($0)".contains("neither PNG nor JPEG"), "\($0)") }
        let png = try PNGFile.encode(image)
        XCTAssertEqual(try ImageFile.decode(png, name: "a PNG named .jpg"), image, "told apart by content, not name")
    }

    /// The shorter side to the size, PIL's bilinear (triangle) filter, the centre cut out.
    func testResizeIsTheScriptsTransform() {
        // Already at the size: the pixels as they are, the same floats bit for bit as the loader
        // has always made of them (FolderImages.resize), so existing pairs keep their digest.
        let square = gradient(width: 8, height: 8)
        XCTAssertEqual(ImageResize.shorterSideAndCentreCrop(square, to: 8), FolderImages.resize(square, to: 8))
        XCTAssertEqual(ImageResize.shorterSideAndCentreCrop(square, to: 8), (0..<3).flatMap { c in
            (0..<64).map { Float(Double(square.pixels[$0 * 3 + c]) / 127.5 - 1) }
        })
        // 16 x 8 to 8: the height is already 8, the width 16 is cut to its centre columns 4..<12.
        let wide = gradient(width: 16, height: 8)
        let cropped = ImageResize.shorterSideAndCentreCrop(wide, to: 8)
        for y in 0..<8 {
            for x in 0..<8 { XCTAssertEqual(cropped[y * 8 + x], Float(Double(wide.pixels[(y * 16 + x + 4) * 3]) / 127.5 - 1)) }
        }
        // Halving columns 0, 0, 255, 255, 0, 0, 255, 255: PIL's taps around centre 2i + 1 with
        // support 2 are 0.25, 0.75, 0.75, 0.25 (cut at the edges), normalised.
        var stripes = RGBImage(width: 8, height: 8)
        for y in 0..<8 { for x in 0..<8 where (x / 2) % 2 == 1 { for c in 0..<3 { stripes.pixels[(y * 8 + x) * 3 + c] = 255 } } }
        let half = ImageResize.shorterSideAndCentreCrop(stripes, to: 4)
        let expected: [Double] = [0.25 * 255 / 1.75, (0.75 * 255 + 0.75 * 255) / 2, (0.25 * 255 + 0.25 * 255) / 2, (0.75 * 255 + 0.75 * 255) / 1.75]
        for x in 0..<4 { XCTAssertEqual(Double(half[x]), expected[x] / 127.5 - 1, accuracy: 1e-5, "column \(x)") }
        // A tall image: width to the size, the rows' centre kept; a constant stays constant.
        let tall = ImageResize.shorterSideAndCentreCrop(RGBImage(width: 30, height: 57, fill: (51, 102, 204)), to: 16)
        XCTAssertEqual(tall.count, 3 * 16 * 16)
        XCTAssertEqual(tall[0], 51 / 127.5 - 1, accuracy: 1e-5)
        XCTAssertEqual(tall[16 * 16 * 2 + 100], 204 / 127.5 - 1, accuracy: 1e-5)
    }

    func testPickAPicRowsLoad() throws {
        let folder = try temporaryFolder()
        try FileIO.writeAtomically(try JPEGFile.encode(RGBImage(width: 48, height: 32, fill: (250, 10, 10)), quality: 95), to: folder + "/red.jpg")
        try FileIO.writeAtomically(try JPEGFile.encode(RGBImage(width: 32, height: 40, fill: (10, 10, 250)), quality: 95), to: folder + "/blue.jpg")
        let rows = [
            #"{"caption":"a red one","jpg_0":"red.jpg","jpg_1":"blue.jpg","label_0":1,"label_1":0}"#,
            #"{"caption":"a blue one","jpg_0":"red.jpg","jpg_1":"blue.jpg","label_0":0,"label_1":1}"#,
            #"{"caption":"either","jpg_0":"red.jpg","jpg_1":"blue.jpg","label_0":0.5,"label_1":0.5}"#,
        ]
        try FileIO.writeAtomically(Array((rows.joined(separator: "\n") + "\n").utf8), to: folder + "/pairs.jsonl")
        let pairs = try PreferencePairs.load(folder + "/pairs.jsonl", size: 16, skipBad: false)
        XCTAssertEqual(pairs.pairs.count, 2)
        XCTAssertEqual(pairs.ties, 1, "a tie is counted and left out")
        XCTAssertFalse(pairs.hasScores)
        XCTAssertNil(pairs.annotator)
        XCTAssertEqual(pairs.pairs[0].winner.count, 3 * 16 * 16)
        XCTAssertGreaterThan(pairs.pairs[0].winner[0], 0.9, "row 1: the red image_0 wins (red channel high)")
        XCTAssertGreaterThan(pairs.pairs[1].winner[2 * 256], 0.9, "row 2: label_0 = 0, the blue image_1 wins")
        let bad = #"{"caption":"x","jpg_0":"red.jpg","jpg_1":"blue.jpg","label_0":1,"label_1":1}"#
        try FileIO.writeAtomically(Array((bad + "\n").utf8), to: folder + "/bad.jsonl")
        XCTAssertThrowsError(try PreferencePairs.load(folder + "/bad.jsonl", size: 16, skipBad: false)) {
            XCTAssertTrue("\($0)".contains("bad.jsonl:1: label_1 is 1.0 but label_0 is 1.0"), "\($0)")
        }
    }
}
