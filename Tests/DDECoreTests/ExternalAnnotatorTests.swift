import XCTest
import DDECore

/// `annotator.NAME = COMMAND`: the folder protocol with a real Python scorer
/// (`scripts/example-scorer.py`), the errors a broken scorer gets, and the config family.
final class ExternalAnnotatorTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let exampleScorer = "python3 " + repository + "/scripts/example-scorer.py"

    func annotator(_ name: String, _ command: String) -> ExternalAnnotator {
        ExternalAnnotator(ExternalAnnotatorKey(name: name, command: command, origin: .commandLine))
    }

    /// Three 8x8 images of known brightness, in model units.
    let size = 8
    var images: [Float] {
        [Float](repeating: -1, count: 3 * 64) + [Float](repeating: 0, count: 3 * 64)
            + (0..<(3 * 64)).map { Float($0 % 7) / 3 - 1 }
    }

    /// The mean 8-bit value over [0, 255] of each image, as the PNG the scorer reads holds it.
    func brightness(_ images: [Float]) -> [Double] {
        (0..<3).map { i in
            let image = RGBImage(chw: Array(images[(i * 3 * 64)..<((i + 1) * 3 * 64)]), width: size, height: size)
            return Double(image.pixels.map(Int.init).reduce(0, +)) / (255 * Double(image.pixels.count))
        }
    }

    func testExampleScorerSeesEveryImageInOrder() throws {
        let scores = try annotator("brightness", Self.exampleScorer).scores(images, captions: ["a", "b", "c"], size: size)
        let expected = brightness(images)
        XCTAssertEqual(scores.count, 3)
        for (s, e) in zip(scores, expected) { XCTAssertEqual(s, e, accuracy: 1e-8) }
        XCTAssertEqual(scores[0], 0, accuracy: 1e-9, "all -1 is black")
        XCTAssertLessThan(scores[0], scores[1])
    }

    /// The captions reach the scorer by image: each score is its caption's length, any characters.
    func testCaptionsReachTheScorerByImage() throws {
        let command = "python3 -c 'import json,sys; d=sys.argv[1]; "
            + "rows=[json.loads(l) for l in open(d+\"/captions.jsonl\")]; "
            + "open(d+\"/scores.csv\",\"w\").write(\"image,score\\n\"+\"\".join(r[\"image\"]+\",\"+str(len(r[\"caption\"]))+\"\\n\" for r in reversed(rows)))'"
        let captions = ["a cat", "ein \"Hund\", grün", "🐟 on a plate, at night"]
        let scores = try annotator("length", command).scores(images, captions: captions, size: size)
        XCTAssertEqual(scores, captions.map { Double($0.count) }, "the rows came back in reverse order; matched by image name")
    }

    func testFailingCommandShowsItsStderrAndKeepsTheFolder() throws {
        let command = "python3 -c 'import sys; sys.stderr.write(\"loading weights\\nOSError: model.bin not found\\n\"); sys.exit(3)'"
        XCTAssertThrowsError(try annotator("broken", command).scores(images, captions: ["a", "b", "c"], size: size)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("annotator broken") && text.contains("exited with status 3"), text)
            XCTAssertTrue(text.contains("OSError: model.bin not found"), "the stderr's tail: \(text)")
            let folder = text.components(separatedBy: "kept in ").last!.components(separatedBy: ";").first!
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/0003.png"), "the images are kept: \(folder)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/captions.jsonl"))
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    func testBadScoresFilesNameTheImageOrLine() throws {
        func failure(_ csv: String) -> String {
            let command = "python3 -c 'import sys; open(sys.argv[1]+\"/scores.csv\",\"w\").write(\"\(csv)\")'"
            do {
                _ = try annotator("bad", command).scores(images, captions: ["a", "b", "c"], size: size)
                return "no error"
            } catch { return "\(error)" }
        }
        let missing = failure("image,score\\n0001.png,0.5\\n0003.png,0.1\\n")
        XCTAssertTrue(missing.contains("no score for 0002.png"), missing)
        let text = failure("image,score\\n0001.png,0.5\\n0002.png,abc\\n0003.png,0.1\\n")
        XCTAssertTrue(text.contains("scores.csv:3") && text.contains("0002.png") && text.contains("'abc', not a finite number"), text)
        let nan = failure("image,score\\n0001.png,nan\\n0002.png,1\\n0003.png,0.1\\n")
        XCTAssertTrue(nan.contains("0001.png") && nan.contains("not a finite number"), nan)
        let header = failure("file,value\\n0001.png,1\\n")
        XCTAssertTrue(header.contains("expected the header 'image,score'"), header)
        let pandas = failure(",image,score\\n0,0001.png,1\\n")
        XCTAssertTrue(pandas.contains("index=False"), pandas)
        let twice = failure("image,score\\n0001.png,1\\n0001.png,2\\n")
        XCTAssertTrue(twice.contains("0001.png is scored twice"), twice)
        // A byte-order mark, CRLF line ends and quoted fields read as if absent.
        let quoted = "python3 -c 'import sys; open(sys.argv[1]+\"/scores.csv\",\"w\",encoding=\"utf-8-sig\",newline=\"\").write("
            + "\"image,score\\r\\n\\\"0001.png\\\",1\\r\\n0002.png,\\\"2\\\"\\r\\n0003.png, 3 \\r\\n\")'"
        XCTAssertEqual(try annotator("excel", quoted).scores(images, captions: ["a", "b", "c"], size: size), [1, 2, 3])
        let none = (try? annotator("silent", "true").scores(images, captions: ["a", "b", "c"], size: size)) == nil
        XCTAssertTrue(none, "a command that writes no scores.csv fails")
    }

    /// The digest covers the command and the script it names, so a changed scorer labels anew.
    func testDigestFollowsTheScriptsContent() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-scorer-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let script = folder + "/score.py"
        try FileIO.writeAtomically(Array("print(1)\n".utf8), to: script)
        let before = annotator("s", "python3 " + script).contentDigest.hex
        XCTAssertEqual(before, annotator("s", "python3 " + script).contentDigest.hex)
        try FileIO.writeAtomically(Array("print(2)\n".utf8), to: script)
        XCTAssertNotEqual(before, annotator("s", "python3 " + script).contentDigest.hex)
        XCTAssertNotEqual(before, annotator("s", "python3 -u " + script).contentDigest.hex)
    }

    // MARK: the config family

    func testConfigDefinesExternalAnnotators() throws {
        let config = try ConfigLoader.load(file: nil, overrides: ["annotator.bright=" + Self.exampleScorer, "compare.annotators=align,bright",
                                                                  "annotator=bright", "uniform.beta.by_annotator=bright:100"])
        XCTAssertEqual(config.externalAnnotators.map(\.name), ["bright"])
        XCTAssertEqual(config.annotatorNames, ["align", "aesthetic", "pick", "bright"])
        XCTAssertEqual(try RunSettings(config).compare.annotators, ["align", "bright"])
        // The resolved config reloads with the family, and overriding keeps it.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-cfg-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try config.writeResolved(to: folder)
        let reloaded = try ConfigLoader.load(file: folder + "/" + Config.resolvedFileName, overrides: [])
        XCTAssertEqual(reloaded.externalAnnotators.map(\.command), [Self.exampleScorer])
        XCTAssertEqual(try config.overriding(["seed": "3"]).externalAnnotators.map(\.name), ["bright"])
    }

    func testConfigErrorsNameTheKey() {
        func message(_ overrides: [String]) -> String {
            do { _ = try ConfigLoader.load(file: nil, overrides: overrides); return "no error" } catch { return "\(error)" }
        }
        let unknown = message(["annotator.bright=true", "compare.annotators=align,brigth"])
        XCTAssertTrue(unknown.contains("compare.annotators") && unknown.contains("'brigth' is not an annotator") && unknown.contains("bright"), unknown)
        let undefined = message(["annotator=pickscore"])
        XCTAssertTrue(undefined.contains("key 'annotator'") && undefined.contains("annotator.pickscore = COMMAND"), undefined)
        XCTAssertTrue(message(["annotator.align=true"]).contains("built-in annotator"))
        XCTAssertTrue(message(["annotator.a/b=true"]).contains("letters, digits"))
        XCTAssertTrue(message(["annotator.x="]).contains("no command"))
        XCTAssertTrue(message(["annotator.=true"]).contains("needs a name"))
        XCTAssertTrue(message(["uniform.beta.by_annotator=nobody:5"]).contains("'nobody' is not an annotator"))
    }
}
