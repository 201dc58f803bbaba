import Foundation

/// The captions a run labels pairs on (`train`, and `validation` for the held-out pairs) and
/// evaluates on (`test`, `validation` when tuning, or `all`), from one of three sources (README, Your
/// own prompts):
///
/// - the shapes world (`data = world`, no `prompts`): its fixed 288/48/48 split (`ShapesWorld`);
/// - `prompts = FILE`, one caption a line (blank lines skipped, a caption twice is an error):
///   of every ten captions the 5th goes to validation and the 10th to test, the rest train;
/// - `data = folder:PATH` without `prompts`: the training images' captions train; the captions
///   of the held-out images (every 20th entry of captions.jsonl, `FolderImages.isHeldOut`) that
///   no training image has alternate between validation and test, the first to validation.
public struct RunPrompts: Sendable {
    public let train: [Caption]
    public let validation: [Caption]
    public let test: [Caption]
    /// Every caption in source order (what `dde-train sample` draws from a file).
    public let all: [Caption]
    /// Where they came from: `the shapes world`, `prompts.txt`, `the held-out captions of DIR`.
    public let source: String
    /// True for the shapes world's own split.
    public let isWorld: Bool

    /// The prompts `data` names: `prompts = FILE` first, then a folder's captions, else the world.
    public static func resolve(_ data: DataSettings) throws -> RunPrompts {
        if !data.promptsFile.isEmpty { return try file(data.promptsFile) }
        if let folder = data.folder { return try folderCaptions(folder, skipBad: data.skipBad) }
        return world
    }

    /// The shapes world's split.
    public static let world: RunPrompts = {
        let split = ShapesWorld.split()
        return RunPrompts(train: split.train.map(Caption.init), validation: split.validation.map(Caption.init),
                          test: split.test.map(Caption.init), all: ShapesWorld.prompts.map(Caption.init), source: "the shapes world", isWorld: true)
    }()

    /// `prompts = FILE`.
    public static func file(_ path: String) throws -> RunPrompts {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw DataError("key 'prompts': cannot read \(path) (\(error))") }
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw DataError("\(path): not UTF-8 text (prompts = FILE holds one caption a line)") }
        var all: [Caption] = [], firstLine: [String: Int] = [:]
        for (i, raw) in text.fileLines().enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            if let first = firstLine[line] {
                throw DataError("\(path):\(i + 1): the caption of line \(first) again; list each caption once (a caption twice would count twice in every mean)")
            }
            firstLine[line] = i + 1
            all.append(Caption(text: line, id: i + 1, place: "\(path):\(i + 1)"))
        }
        guard !all.isEmpty else { throw DataError("\(path): no captions (prompts = FILE holds one caption a line)") }
        let position = { (k: Int) in (k + 1) % 10 }  // k: 0-based caption count
        return RunPrompts(train: all.indices.filter { position($0) != 5 && position($0) != 0 }.map { all[$0] },
                          validation: all.indices.filter { position($0) == 5 }.map { all[$0] },
                          test: all.indices.filter { position($0) == 0 }.map { all[$0] },
                          all: all, source: path, isWorld: false)
    }

    /// `data = folder:PATH` without a prompts file.
    public static func folderCaptions(_ folder: String, skipBad: Bool) throws -> RunPrompts {
        let listPath = folder + "/captions.jsonl"
        let bytes: [UInt8]
        do { bytes = try FileIO.read(listPath) } catch { throw DataError("\(listPath): cannot read the captions file") }
        var skipped: [String] = []
        let entries = try FolderImages.entries(listPath, bytes: bytes, skipBad: skipBad, skipped: &skipped)
        func distinct(_ list: [FolderImages.Entry]) -> [Caption] {
            var seen: Set<String> = []
            return list.filter { seen.insert($0.caption).inserted }.map { entry in
                Caption(text: entry.caption, id: entry.line, place: entry.place)
            }
        }
        let train = distinct(entries.filter { !FolderImages.isHeldOut(entry: $0.number) })
        let trainTexts = Set(train.map(\.text))
        let held = distinct(entries.filter { FolderImages.isHeldOut(entry: $0.number) && !trainTexts.contains($0.caption) })
        return RunPrompts(train: train, validation: held.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
                          test: held.enumerated().filter { $0.offset % 2 == 1 }.map(\.element), all: distinct(entries),
                          source: "the captions of \(folder)", isWorld: false)
    }

    /// The captions models are scored on; throws when there are none, saying how to get some.
    public func evaluated(_ split: PromptSplit) throws -> [Caption] {
        let list: [Caption]
        switch split {
        case .test: list = test
        case .validation: list = validation
        case .all: list = all
        }
        guard !list.isEmpty else {
            throw DataError("\(source) gives no \(split.rawValue) prompts (" + splitRule + "); give more captions, or prompts = FILE")
        }
        return list
    }

    /// The rule that split them, for messages and notes.
    public var splitRule: String {
        if isWorld { return "the world's fixed 288/48/48 split" }
        if source.hasPrefix("the captions of ") {
            return "the held-out images' captions, every 20th entry of captions.jsonl, alternate validation and test"
        }
        return "of every ten captions the 5th is validation and the 10th test"
    }

    /// `24 train, 3 validation, 3 test prompts from prompts.txt`.
    public var summary: String { "\(train.count) train, \(validation.count) validation, \(test.count) test prompts from \(source)" }

    /// The captions' content for stage signatures: nil for the world (its keys describe it), else
    /// every caption of each part.
    public var contentDigest: ContentDigest? {
        if isWorld { return nil }
        var digest = ContentDigest()
        for (name, part) in [("train", train), ("validation", validation), ("test", test)] {
            digest.add(name)
            for c in part { digest.add(c.text) }
        }
        return digest
    }
}
