/// The `annotators.*` keys: how the `align` classifier is trained, checkpointed and accepted;
/// and the external annotators the `annotator.NAME = COMMAND` keys define.
public struct AnnotatorSettings: Sendable, Equatable {
    public var training: AlignTraining
    public var checkpointEvery: Int
    /// The stage fails when any attribute's held-out accuracy is below this.
    public var minAccuracy: Double
    /// The `annotator.NAME = COMMAND` definitions, by name.
    public var external: [ExternalAnnotatorKey]

    init(_ config: Config) {
        training = AlignTraining(steps: config.int("annotators.steps"), batch: config.int("annotators.batch"),
                                 lr: config.double("annotators.lr"), warmupSteps: config.int("annotators.warmup_steps"),
                                 heldOutImages: config.int("annotators.eval_images"), seed: UInt64(config.int("seed")),
                                 size: config.int("sample_size"))
        checkpointEvery = config.int("annotators.checkpoint_every")
        minAccuracy = config.double("annotators.min_accuracy")
        external = config.externalAnnotators
    }
}
