/// The evaluation protocol: the `eval.*` keys.
public struct EvalSettings: Sendable, Equatable {
    public var imagesPerPrompt: Int
    public var steps: Int
    public var guidance: Double
    /// Image j of every prompt starts from the same noise for every model.
    public var seed: UInt64
    public var bootstrap: Int
    public var prompts: PromptSplit

    init(_ config: Config) {
        imagesPerPrompt = config.int("eval.images_per_prompt")
        steps = config.int("eval.steps")
        guidance = config.double("eval.guidance")
        seed = UInt64(config.int("eval.seed"))
        bootstrap = config.int("eval.bootstrap")
        prompts = config.choice("eval.prompts")
    }
}

/// The prompts a model is evaluated on: `test` (reports), `validation` (tuning) or `all` (every
/// caption, the training ones included: a benchmark file scored whole by `dde-train eval`).
public enum PromptSplit: String, CaseIterable, Sendable {
    case test, validation, all

    /// `test prompts`, `validation prompts`, `prompts (every caption)`, for messages.
    public var phrase: String { self == .all ? "prompts (every caption)" : rawValue + " prompts" }
}
