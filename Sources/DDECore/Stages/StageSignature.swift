import Foundation

/// What a stage's results depend on, as `name=value` lines: every key whose `affects` column
/// names the stage (in table order, derived from `ConfigKeys`; a fine-tune's, only the keys of
/// its own loss: the `losses` column), then the content digests of the
/// stage's inputs (`input.base=...`: the base model a fine-tune starts from, its pairs). Equal
/// signatures, equal results: a finished stage with the same signature is reused, a checkpoint
/// resumes only a run with the same signature (`Checkpoint.openForResume`).
public struct StageSignature: Sendable, Equatable, CustomStringConvertible {
    public let stage: Stage
    /// `(name, value)` in order.
    public let lines: [(name: String, value: String)]

    /// The signature of `stage` under `config`, with the digests of its inputs (`name`, digest);
    /// a fine-tune's (`train`) holds only `loss`'s own keys of the loss section (nil: every loss's).
    public init(_ stage: Stage, _ config: Config, loss: PreferenceLoss.Kind? = nil, inputs: [(String, ContentDigest)] = []) {
        self.stage = stage
        lines = stage.signatureKeys(loss: loss).map { ($0.name, config.value($0.name).text) }
            + inputs.map { ("input." + $0.0, $0.1.hex) }
    }

    /// A signature as recorded in a file (`text`), for comparison and messages.
    public init(stage: Stage, text: String) {
        self.stage = stage
        lines = text.split(separator: "\n").compactMap { line in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }

    /// The lines joined by newlines: what `signature.txt` and a checkpoint's `stage_signature` hold.
    public var text: String { lines.map { "\($0.name)=\($0.value)" }.joined(separator: "\n") }

    public var description: String { text }

    public static func == (a: StageSignature, b: StageSignature) -> Bool { a.text == b.text }

    /// The recorded value of key `name`, if the signature has it.
    public func value(of name: String) -> String? { lines.first { $0.name == name }?.value }

    /// This signature without the lines of the named keys (those a resume may change: a finished
    /// pretraining continued for more `pretrain.steps`).
    public func without(_ names: [String]) -> StageSignature {
        StageSignature(stage: stage, lines: lines.filter { !names.contains($0.name) })
    }

    private init(stage: Stage, lines: [(name: String, value: String)]) {
        self.stage = stage
        self.lines = lines
    }

    /// What differs from `other` (the recorded one), for messages: `seed: 0 -> 1` for a key,
    /// `base model differs (content 1f.. -> 9a..)` for an input.
    public func differences(from other: StageSignature) -> [String] {
        let mine = Dictionary(lines.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        let theirs = Dictionary(other.lines.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        return Set(mine.keys).union(theirs.keys).sorted().compactMap { name in
            let old = theirs[name] ?? "(none)", new = mine[name] ?? "(none)"
            guard old != new else { return nil }
            if name.hasPrefix("input.") {
                let input = String(name.dropFirst("input.".count))
                return "\(Self.inputNames[input] ?? input) differs (content \(old) -> \(new))"
            }
            return "\(name): \(old) -> \(new)"
        }
    }

    /// How messages name the inputs.
    static let inputNames = ["base": "base model", "pairs": "pairs", "annotator": "the annotator labelling the pairs",
                             "data": "the training images (data=folder:)"]
}
