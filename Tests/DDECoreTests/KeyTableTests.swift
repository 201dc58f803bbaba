import XCTest
import DDECore

/// The key table is the one place that says what a key affects: every key is classified, every
/// key is read by some code, and the stage signatures are the table's column, not a second list.
final class KeyTableTests: XCTestCase {
    func testEveryKeySaysWhichStagesItAffects() {
        let unclassified = ConfigKeys.all.filter { $0.affects == nil }.map(\.name)
        XCTAssertEqual(unclassified, [], "keys without an affects column in ConfigKeys")
    }

    /// A key nothing reads is a promise the tool does not keep (`pretrain.log_every` was one).
    /// Read means: its name appears as a string literal in the sources outside the table itself.
    func testEveryKeyIsReadBySomeCode() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources").path
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: sources)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasSuffix("/ConfigKeys.swift") }
        XCTAssertGreaterThan(files.count, 50)
        let text = try files.map { try String(contentsOfFile: sources + "/" + $0, encoding: .utf8) }.joined(separator: "\n")
        let unread = ConfigKeys.all.map(\.name).filter { !text.contains("\"\($0)\"") }
        XCTAssertEqual(unread, [], "keys in the table that no code reads")
    }

    /// Signatures are derived from the column: the keys that change the arithmetic are in every
    /// stage that computes, logging intervals in none, and a path enters by content only.
    func testSignaturesFollowTheAffectsColumn() throws {
        let config = try ConfigLoader.load(file: nil, overrides: [])
        let pretrain = StageSignature(.pretrain, config).lines.map(\.name)
        for stage in [Stage.pretrain, .annotators, .pairs, .train] {
            let names = StageSignature(stage, config).lines.map(\.name)
            XCTAssertTrue(names.contains("conv.winograd") && names.contains("threads"), "\(stage): \(names)")
            XCTAssertFalse(names.contains { $0.hasSuffix("checkpoint_every") || $0.hasSuffix("log_every") || $0 == "out" }, "\(stage)")
        }
        XCTAssertTrue(pretrain.contains("pretrain.grad_accum") && pretrain.contains("seed"))
        XCTAssertFalse(StageSignature(.train, config).lines.map(\.name).contains { $0.contains("grad_accum") },
                       "fine-tuning reads no grad_accum")
        XCTAssertFalse(StageSignature(.train, config).lines.contains { $0.name == "base" || $0.name == "pairs" },
                       "a path key enters by its file's content (input.base), not its text")
        let changed = try config.overriding(["conv.winograd": "off"])
        XCTAssertEqual(StageSignature(.pretrain, changed).differences(from: StageSignature(.pretrain, config)), ["conv.winograd: f4x4 -> off"])
        let withInput = StageSignature(.train, config, inputs: [("base", ContentDigest.of([1, 2]))])
        XCTAssertEqual(withInput.lines.last?.name, "input.base")
        XCTAssertEqual(StageSignature(stage: .train, text: withInput.text), withInput, "the recorded text reads back")
    }

    /// FNV-1a 64 against its published test vectors.
    func testContentDigestIsFNV1a() {
        XCTAssertEqual(ContentDigest.of([]).hex, "cbf29ce484222325")
        XCTAssertEqual(ContentDigest.of(Array("a".utf8)).hex, "af63dc4c8601ec8c")
        XCTAssertEqual(ContentDigest.of(Array("foobar".utf8)).hex, "85944171f73967e8")
    }
}
