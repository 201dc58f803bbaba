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
        let prompts = Array(ShapesWorld.split().train.prefix(3))
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
