/// The checks that stop a training run at the step where a number went NaN or Inf (issue 6):
/// the loss and the gradients before the update, the weights (and EMA weights) after it. Each
/// error names the stage, the step, the quantity and, for the flat buffers, the tensor and
/// index (`FiniteCheck.Finding`). Every stage runs them before it logs or checkpoints the
/// step, so no checkpoint on disk holds a non-finite value: the last one stays good.
enum StepCheck {
    static func loss(_ loss: Double, stage: String, step: Int, hint: String) throws {
        guard loss.isFinite else { throw stopped(stage, step, "the loss is \(loss)", hint) }
    }

    static func gradients(_ store: ParameterStore, stage: String, step: Int, hint: String, _ ws: Workspace) throws {
        if let bad = FiniteCheck.firstNonFiniteGradient(store, ws) { throw stopped(stage, step, "non-finite gradient: \(bad)", hint) }
    }

    /// After the optimizer's update: the weights, and the EMA weights when there are any.
    static func weights(_ store: ParameterStore, ema: EMA? = nil, stage: String, step: Int, hint: String,
                        _ ws: Workspace) throws {
        if let bad = FiniteCheck.firstNonFiniteParameter(store, ws) {
            throw stopped(stage, step, "non-finite weight after the update: \(bad)", hint)
        }
        if let ema, let bad = FiniteCheck.firstNonFinite(ema.weights, in: store, ws) {
            throw stopped(stage, step, "non-finite EMA weight after the update: \(bad)", hint)
        }
    }

    private static func stopped(_ stage: String, _ step: Int, _ what: String, _ hint: String) -> TrainingError {
        TrainingError("\(stage) step \(step): \(what); stopped before checkpointing this step (the last checkpoint is intact; \(hint))")
    }
}
