/// The run folder's layout: every path the stages, commands and report use, built here only.
///
///     <out>/config.resolved.conf
///     <out>/pretrain/model.safetensors        the base model
///     <out>/annotators/align.safetensors      the align classifier
///     <out>/pairs-<annotator>/pairs.jsonl     and heldout.jsonl, images/
///     <out>/train-<name>/model.safetensors    a fine-tune (<method>-<annotator>-s<seed>[-grid point]), its scores.csv
///     <out>/eval-base/scores.csv              the base model's scores (its pretrain folder stays as the stage left it)
///     <out>/report.{md,csv,html}, report-dist.csv, report-versus.csv, claims.csv, scores-all.csv,
///           timings.csv, sweep.csv, segments.svg, report/
public struct RunLayout: Sendable {
    public let out: String

    public init(out: String) { self.out = out }

    public var pretrain: String { out + "/pretrain" }
    public var baseModel: String { pretrain + "/model.safetensors" }
    public var annotators: String { out + "/annotators" }
    public func pairs(_ annotator: String) -> String { out + "/pairs-\(annotator)" }
    public func pairsFile(_ annotator: String) -> String { pairs(annotator) + "/pairs.jsonl" }
    /// The folder of a fine-tune named `name` (`Comparison.Run.name`, or `<loss>-<annotator>`).
    public func train(_ name: String) -> String { out + "/train-\(name)" }
    /// Where the main job's evaluation of the base model writes its `scores.csv`.
    public var baseEvaluation: String { out + "/eval-base" }
    /// A file at the top of the run folder (`report.csv`).
    public func file(_ name: String) -> String { out + "/" + name }

    /// The stage folder names below `out` (`pretrain`, `pairs-aesthetic`): what `reuse=` copies.
    public func stageName(_ folder: String) -> String { String(folder.dropFirst(out.count + 1)) }
}
