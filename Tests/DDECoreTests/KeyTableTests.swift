import Foundation
import XCTest
import DDECore

/// The key table is the one place that says what a key affects: every key is classified, every
/// key is read by some code, and the stage signatures are the table's column, not a second list.
final class KeyTableTests: XCTestCase {
    func testEveryKeySaysWhichStagesItAffects() {
        let unclassified = ConfigKeys.all.filter { $0.affects == nil }.map(\.name)
        XCTAssertEqual(unclassified, [], "keys without an affects column in ConfigKeys")
    }

    /// Sources/ as (path relative to it, text), Swift files only.
    static func sources() throws -> [(path: String, text: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources").path
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: root)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        return try files.sorted().map { ($0, try String(contentsOfFile: root + "/" + $0, encoding: .utf8)) }
    }

    /// Where keys are decoded into typed settings (`RunSettings`): nowhere else reads one by name.
    static func isDecoding(_ path: String) -> Bool {
        path.hasPrefix("DDECore/Settings/") || path == "DDECore/Config/Config.swift" || path == "DDECore/Config/Config+Method.swift"
    }

    /// A key nothing reads is a promise the tool does not keep (`pretrain.log_every` was one):
    /// every key's name is decoded somewhere in the settings layer.
    func testEveryKeyIsDecoded() throws {
        let sources = try Self.sources()
        XCTAssertGreaterThan(sources.count, 100)
        let decoding = sources.filter { Self.isDecoding($0.path) }.map(\.text).joined(separator: "\n")
        let unread = ConfigKeys.all.map(\.name).filter { !decoding.contains("\"\($0)\"") }
        XCTAssertEqual(unread, [], "keys in the table that no settings type decodes")
    }

    /// Below the command line code reads typed settings, never a key by name: a misspelt name
    /// would fail only when its path ran. (The loader's checks between keys and the signature,
    /// which takes its names from the table, are the exceptions.)
    func testNoKeyIsReadByNameOutsideTheDecoding() throws {
        let read = try NSRegularExpression(pattern: #"\.(int|double|float|bool|string|intList|doubleList|stringList|choice|value|setting|origin)\(""#)
        var offenders: [String] = []
        for (path, text) in try Self.sources() where !Self.isDecoding(path) && path != "DDECore/Config/ConfigLoader.swift" {
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let s = String(line)
                if read.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil { offenders.append("\(path):\(n + 1): \(s)") }
            }
        }
        XCTAssertEqual(offenders, [], "read a key by name outside Sources/DDECore/Settings")
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
        XCTAssertEqual(StageSignature(.train, config).lines.map(\.name).filter { $0.contains("grad_accum") }, ["train.grad_accum"],
                       "fine-tuning reads its own grad_accum, not pretraining's")
        XCTAssertFalse(StageSignature(.train, config).lines.contains { $0.name == "base" || $0.name == "pairs" },
                       "a path key enters by its file's content (input.base), not its text")
        let changed = try config.overriding(["conv.winograd": "off"])
        XCTAssertEqual(StageSignature(.pretrain, changed).differences(from: StageSignature(.pretrain, config)), ["conv.winograd: f4x4 -> off"])
        let withInput = StageSignature(.train, config, inputs: [("base", ContentDigest.of([1, 2]))])
        XCTAssertEqual(withInput.lines.last?.name, "input.base")
        XCTAssertEqual(StageSignature(stage: .train, text: withInput.text), withInput, "the recorded text reads back")
    }

    /// A fine-tune's signature holds its own loss's keys and no other loss's, and no method's own
    /// beta or lr (they enter resolved, as `beta` and `lr`): a new loss's keys leave the finished
    /// fine-tunes of the others reusable.
    func testAFineTunesSignatureHoldsOnlyItsOwnLossKeys() throws {
        func names(_ loss: String) throws -> [String] {
            let settings = try RunSettings(try ConfigLoader.load(file: nil, overrides: ["loss=\(loss)"]).forMethod(loss))
            return FineTuner.signature(settings, base: ContentDigest.of([1]), pairs: ContentDigest.of([2])).lines.map(\.name)
        }
        let dde = try names("dde"), kto = try names("kto"), smpo = try names("smpo"), sft = try names("sft")
        XCTAssertTrue(dde.contains("dde.kappa") && !dde.contains("kto.labels") && !dde.contains("disc.gamma"), "\(dde)")
        XCTAssertTrue(try names("dde-step").contains("dde.record_buckets"))
        XCTAssertTrue(kto.contains("kto.positive_ratio") && !kto.contains("dde.kappa"), "\(kto)")
        XCTAssertTrue(smpo.contains("smpo.scale") && smpo.contains("inpo.inverse_semantics") && !smpo.contains("inpo.inv_steps"), "\(smpo)")
        let resolved = Set(ConfigKeys.all.filter { $0.losses?.isEmpty == true }.map(\.name))
        XCTAssertTrue(resolved.contains("dde-single.beta") && resolved.contains("kto.lr.by_annotator"))
        for list in [dde, kto, smpo, sft] {
            XCTAssertTrue(list.contains("beta") && list.contains("lr") && list.contains("loss") && list.contains("t_range"))
            XCTAssertFalse(list.contains { resolved.contains($0) }, "\(list)")
        }
        // Every loss-specific key is some loss's: none is left out of every signature by mistake.
        for key in ConfigKeys.all where key.losses?.isEmpty == false {
            XCTAssertTrue(try key.losses!.contains { try names($0.rawValue).contains(key.name) }, key.name)
        }
    }

    /// FNV-1a 64 against its published test vectors.
    func testContentDigestIsFNV1a() {
        XCTAssertEqual(ContentDigest.of([]).hex, "cbf29ce484222325")
        XCTAssertEqual(ContentDigest.of(Array("a".utf8)).hex, "af63dc4c8601ec8c")
        XCTAssertEqual(ContentDigest.of(Array("foobar".utf8)).hex, "85944171f73967e8")
    }

    /// `dde-train SUBCOMMAND --help` lists the keys of the sections the command reads, from the
    /// table: every section named exists, every section is some command's, and a key whose doc
    /// says it is one command's (`dde-train sample: ...`) is listed for that command alone.
    func testEachCommandsHelpListsTheKeysItReads() {
        for (command, sections) in CommandKeys.sections {
            XCTAssertTrue(Set(sections).isSubset(of: ConfigKeys.sectionNames), "\(command): \(sections)")
        }
        let read = Set(CommandKeys.sections.filter { $0.key != "config" && $0.key != "compare" }.values.flatMap { $0 })
        XCTAssertEqual(read, Set(ConfigKeys.sectionNames), "every section is read by a command of its own")
        let train = CommandKeys.help(for: "train"), sample = CommandKeys.help(for: "sample")
        XCTAssertTrue(train.contains("\n  loss = dde"), train)
        XCTAssertTrue(train.contains("\n  kto.lambda_d = 1"), train)
        XCTAssertFalse(train.contains("bench.repeats"), "bench's keys are bench's")
        XCTAssertFalse(train.contains("\n  n = "), "dde-train sample's n is sample's")
        XCTAssertTrue(sample.contains("\n  n = 8"), sample)
        XCTAssertFalse(sample.contains("inputs = "), "forward's inputs")
        XCTAssertTrue(CommandKeys.help(for: "forward").contains("inputs = "))
        XCTAssertEqual(CommandKeys.onlyFor(ConfigKeys.all.first { $0.name == "trace" }!), "sample")
        XCTAssertEqual(CommandKeys.help(for: "config").split(separator: "\n").filter { $0.hasPrefix("  ") }.count,
                       ConfigKeys.all.count + 1, "config: every key, and the annotator.NAME family")
        XCTAssertTrue(CommandKeys.help(for: "pairs").contains("annotator.NAME = COMMAND"))
        XCTAssertFalse(train.contains("annotator.NAME"), "train runs no annotator")
    }
}
