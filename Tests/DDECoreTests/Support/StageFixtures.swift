import XCTest
import DDECore

/// Tiny stages for the reliability tests (resume, checkpoints, NaN stops, damaged caches, full
/// disks): each runs in well under a second on two cores.
enum Toy {
    /// A U-Net of 8 and 16 channels on 8x8 images; pretraining checkpoints every step.
    static let model = ["block_out_channels=8,16", "norm_num_groups=4", "sample_size=8", "encoder.dim=8", "threads=2",
                        "pretrain.batch=8", "pretrain.warmup_steps=2", "pretrain.val_images=8", "pretrain.val_every=2",
                        "pretrain.sample_every=0", "pretrain.checkpoint_every=1", "pretrain.ema=0.9", "sample.steps=2"]

    /// The align classifier at 16 renders a step, checkpointed every 4 steps.
    static let annotators = ["annotators.steps=12", "annotators.batch=16", "annotators.eval_images=64",
                             "annotators.min_accuracy=0", "annotators.checkpoint_every=4", "threads=2"]

    /// A DDE fine-tune of 4 pairs a step, checkpointed every step.
    static let fineTune = ["loss=dde", "batch=4", "lr=1e-3", "beta=100", "train.checkpoint_every=1", "dde.record_buckets=10"]

    static func config(_ out: String, _ overrides: [String]) throws -> Config {
        try ConfigLoader.load(file: nil, overrides: ["out=\(out)"] + overrides)
    }

    static func pretrainer(_ folder: String, _ extra: [String] = [], observer: StageObserver = SilentObserver()) throws -> Pretrainer {
        Pretrainer(settings: try RunSettings(try config(folder, model + extra)), folder: folder, build: BuildInfo(commit: "test"), observer: observer)
    }

    static func annotatorTrainer(_ folder: String, _ extra: [String] = [], observer: StageObserver = SilentObserver()) throws -> AnnotatorTrainer {
        AnnotatorTrainer(settings: try RunSettings(try config(folder, annotators + extra)), folder: folder, build: BuildInfo(commit: "test"), observer: observer)
    }

    static func fineTuner(_ folder: String, _ extra: [String] = [], observer: StageObserver = SilentObserver()) throws -> FineTuner {
        FineTuner(settings: try RunSettings(try config(folder, model + fineTune + extra)), folder: folder, build: BuildInfo(commit: "test"), observer: observer)
    }

    /// Pairs of world renders: a clean render wins over a noisy one.
    static func pairs(count: Int = 12) -> PreferencePairs {
        let dataset = ShapesDataset(prompts: ShapesWorld.split().train, size: 8, defectRate: 0)
        var rng = RandomStream(seed: 4)
        var pairs = PreferencePairs(pairs: [], ties: 0, skipped: [], annotator: "test")
        for prompt in ShapesWorld.split().train.prefix(count) {
            var twin = rng
            let clean = dataset.renderClean(prompt, rng: &rng)
            let bad = ShapesRenderer(size: 8).render(prompt, defect: .noise, rng: &twin)
            pairs.pairs.append(.init(caption: prompt.text, winner: clean, loser: bad, winnerScore: 1, loserScore: 0))
        }
        return pairs
    }
}

/// An observer that keeps the notes (what a stage said about caches and resumes).
final class NoteRecorder: StageObserver {
    var notes: [String] = []
    func stageBegan(_ stage: String, total: Int, completed: Int) {}
    func stepDone(_ stage: String, step: Int, total: Int, metrics: [(String, Double)]) {}
    func note(_ text: String) { notes.append(text) }
    func stageEnded(_ stage: String) {}
}

extension XCTestCase {
    /// A fresh folder path (not created), removed after the test.
    func scratchFolder(_ prefix: String = "dde-reliability") -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The error `body` throws, as its one-line text (fails the test when nothing is thrown).
    func errorText(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try body()
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }
}

/// Every tensor of a safetensors file as raw bytes, by name (any dtype).
func tensorBytes(_ path: String) throws -> [String: [UInt8]] {
    let file = try SafeTensorsReader(contentsOf: path)
    var out: [String: [UInt8]] = [:]
    for name in file.names { out[name] = try file.withRawBytes(of: name) { Array($0) } }
    return out
}

/// A CSV's lines without the `seconds` column (the one wall-clock field of the metrics).
func csvWithoutSeconds(_ path: String) throws -> [String] {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false) else { return [] }
    let drop = header.firstIndex(of: "seconds")
    return lines.map { line in
        line.split(separator: ",", omittingEmptySubsequences: false).enumerated().filter { $0.offset != drop }
            .map { String($0.element) }.joined(separator: ",")
    }
}

/// The `step-N.safetensors` files of a checkpoint folder, sorted.
func checkpointNames(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("step-") }.sorted()
}

/// Every file below `folder` (relative paths, sorted), hidden ones included.
func allFiles(_ folder: String) -> [String] {
    (FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []).filter { path in
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder) && !isFolder.boolValue
    }.sorted()
}

/// Overwrites float `index` of the F32 tensor `name` in place (a poisoned file), and the
/// file's checksum with it, so the file stays valid and the value itself is what a test meets.
func poke(_ path: String, tensor name: String, index: Int, _ value: Float) throws {
    let file = try SafeTensorsReader(contentsOf: path)
    let info = try file.info(name)
    var bytes = try FileIO.read(path)
    let dataStart = 8 + file.headerByteCount
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange((dataStart + info.dataOffsets.lowerBound + 4 * index)..<(dataStart + info.dataOffsets.lowerBound + 4 * index + 4), with: $0) }
    if let old = file.metadata[SafeTensors.checksumKey] {
        var digest = ContentDigest()
        digest.add(Array(bytes[dataStart...]))
        let header = String(decoding: bytes[8..<dataStart], as: UTF8.self)
        let updated = Array(header.replacingOccurrences(of: "\"\(old)\"", with: "\"\(digest.hex)\"").utf8)
        XCTAssertEqual(updated.count, dataStart - 8)
        bytes.replaceSubrange(8..<dataStart, with: updated)
    }
    try FileIO.writeAtomically(bytes, to: path)
}

/// Cuts a file to its first `fraction` of bytes (a half-written or half-copied file).
func cut(_ path: String, to fraction: Double) throws {
    let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    XCTAssertEqual(truncate(path, off_t(Double(size) * fraction)), 0)
}
