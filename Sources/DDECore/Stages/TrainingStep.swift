/// One optimizer step of a training stage: all that differs between pretraining, the `align`
/// classifier and a fine-tune. `TrainingRun` runs it in the one loop every stage shares (logs,
/// progress, checkpoints, interrupts); `dde-train bench` times the same `run(step:)`.
public protocol TrainingStep: AnyObject {
    /// Runs step `step + 1` (0-based `step`; logs and checkpoints count from 1) and returns its
    /// metrics in log order, without `step` and `seconds` (the loop adds them). Throws at a
    /// non-finite loss, gradient or weight (`StepCheck`), before anything of the step is kept.
    func run(step: Int) throws -> [(String, Double)]

    /// A checkpoint of the state after `step` steps: the weights, AdamW's moments and the
    /// stage's own tensors, with `metadata` (stage, signature, config) plus the step, AdamW's
    /// step and every random stream (`Checkpoint.stateMetadata`).
    func checkpoint(step: Int, metadata: [String: String]) throws -> SafeTensorsWriter

    /// Restores the state `checkpoint(step:metadata:)` wrote, so the run continues bit-identically.
    func restore(from file: SafeTensorsReader, step: Int) throws
}
