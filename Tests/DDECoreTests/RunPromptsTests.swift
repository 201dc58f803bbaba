import XCTest
import DDECore

/// Where a run's captions come from (`RunPrompts`): the world's split, `prompts = FILE` split
/// by its stated rule, a data folder's held-out captions; and the built-in annotators refusing
/// captions they cannot read, naming the line.
final class RunPromptsTests: XCTestCase {
    func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-prompts-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func testWorldIsTheFixedSplit() throws {
        let world = try RunPrompts.resolve(try RunSettings(try ConfigLoader.load(file: nil, overrides: [])).data)
        let split = ShapesWorld.split()
        XCTAssertTrue(world.isWorld)
        XCTAssertEqual(world.train.map(\.text), split.train.map(\.text))
        XCTAssertEqual(world.test.map(\.id), split.test.map(\.index), "ids are the prompts' indices, so pair image names stay")
        XCTAssertNil(world.contentDigest)
    }

    func testFileSplitsFifthAndTenthOfEveryTen() throws {
        let folder = try temporaryFolder(), path = folder + "/prompts.txt"
        let captions = (1...25).map { "caption number \($0)" }
        try FileIO.writeAtomically(Array(("\n" + captions.joined(separator: "\n\n") + "\n").utf8), to: path)
        let prompts = try RunPrompts.resolve(try RunSettings(try ConfigLoader.load(file: nil, overrides: ["prompts=" + path])).data)
        XCTAssertEqual(prompts.validation.map(\.text), ["caption number 5", "caption number 15", "caption number 25"])
        XCTAssertEqual(prompts.test.map(\.text), ["caption number 10", "caption number 20"])
        XCTAssertEqual(prompts.train.count, 20)
        XCTAssertEqual(prompts.all.map(\.text), captions)
        XCTAssertEqual(prompts.test[0].place, path + ":20", "blank lines count in the line number")
        XCTAssertEqual(Set(prompts.all.map(\.id)).count, 25, "ids are unique")
        XCTAssertEqual(try prompts.evaluated(.test).count, 2)
        XCTAssertEqual(try prompts.evaluated(.all).map(\.text), captions, "eval.prompts = all: the whole file, in order")
        XCTAssertNotNil(prompts.contentDigest)
    }

    func testFileErrorsNameTheLine() throws {
        let folder = try temporaryFolder()
        try FileIO.writeAtomically(Array("a red circle\nsomething\na red circle\n".utf8), to: folder + "/twice.txt")
        XCTAssertThrowsError(try RunPrompts.file(folder + "/twice.txt")) { XCTAssertTrue("\($0)".contains("twice.txt:3: the caption of line 1 again"), "\($0)") }
        try FileIO.writeAtomically(Array("\n \n".utf8), to: folder + "/empty.txt")
        XCTAssertThrowsError(try RunPrompts.file(folder + "/empty.txt")) { XCTAssertTrue("\($0)".contains("no captions"), "\($0)") }
        try FileIO.writeAtomically(Array("one\ntwo\n".utf8), to: folder + "/short.txt")
        XCTAssertThrowsError(try RunPrompts.file(folder + "/short.txt").evaluated(.test)) {
            XCTAssertTrue("\($0)".contains("gives no test prompts") && "\($0)".contains("10th"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigLoader.load(file: nil, overrides: ["prompts=" + folder + "/missing.txt"])) {
            XCTAssertTrue("\($0)".contains("prompts") && "\($0)".contains("missing.txt"), "\($0)")
        }
    }

    /// A data folder's held-out entries (every 20th) give validation and test captions,
    /// alternately, leaving out any caption a training image also has.
    func testFolderHeldOutCaptionsAlternate() throws {
        let folder = try temporaryFolder()
        let lines = (1...80).map { k -> String in
            let caption = k == 60 ? "picture 3" : "picture \(k)"  // entry 60 is held out, but a training image has its caption
            return "{\"file\": \"\(k).png\", \"caption\": \"\(caption)\"}"
        }
        try FileIO.writeAtomically(Array(lines.joined(separator: "\n").utf8), to: folder + "/captions.jsonl")
        let prompts = try RunPrompts.folderCaptions(folder, skipBad: false)
        XCTAssertEqual(prompts.validation.map(\.text), ["picture 20", "picture 80"])
        XCTAssertEqual(prompts.test.map(\.text), ["picture 40"])
        XCTAssertEqual(prompts.train.count, 76)
        XCTAssertFalse(prompts.train.map(\.text).contains("picture 40"))
        XCTAssertEqual(prompts.test[0].place, folder + "/captions.jsonl:40")
    }

    func testBuiltInAnnotatorsRefuseOtherCaptionsNamingTheLine() throws {
        let folder = try temporaryFolder(), path = folder + "/prompts.txt"
        try FileIO.writeAtomically(Array("a large red circle on a navy background\na photo of a cat\n".utf8), to: path)
        let prompts = try RunPrompts.file(path)
        XCTAssertThrowsError(try AnnotatorSet.check("pick", canJudge: prompts.all)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(path + ":2: 'a photo of a cat' is not a shapes-world caption"), text)
            XCTAssertTrue(text.contains("annotator.NAME = COMMAND"), text)
        }
        XCTAssertNoThrow(try AnnotatorSet.check("pickscore", canJudge: prompts.all), "external annotators read any caption")
        XCTAssertNoThrow(try AnnotatorSet.check("align", canJudge: Array(prompts.all.prefix(1))))
        XCTAssertThrowsError(try AestheticAnnotator().scores([Float](repeating: 0, count: 3 * 64), captions: ["a dog"], size: 8))
    }
}
