/// The stages of a run whose results a config key can change (the key table's `affects`
/// column), in the order the main job runs them.
public enum Stage: String, CaseIterable, Sendable {
    /// The base model's weights (`pretrain/`).
    case pretrain
    /// The `align` classifier's weights (`annotators/`).
    case annotators
    /// The preference pairs (`pairs-<annotator>/`): images sampled from the base, labelled.
    case pairs
    /// A fine-tune's weights (`train-*/`).
    case train
    /// A model's scores on the evaluation prompts.
    case eval
    /// The report's intervals and tables, computed from the scores.
    case report

    /// The keys whose values enter this stage's signature, in table order; for `train`, of a
    /// fine-tune with `loss` (its own loss's keys only).
    public func signatureKeys(loss: PreferenceLoss.Kind? = nil) -> [ConfigKey] {
        ConfigKeys.all.filter { $0.isInSignature(of: self, loss: loss) }
    }
}
