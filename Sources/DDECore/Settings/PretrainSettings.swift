/// The `pretrain.*` keys: the base model's training.
public struct PretrainSettings: Sendable, Equatable {
    public var steps: Int
    public var batch: Int
    public var lr: Double
    public var warmupSteps: Int
    public var promptDropout: Float
    /// Micro-batches a batch is split into.
    public var gradAccum: Int
    /// EMA decay of the weights; 0 = off.
    public var ema: Double
    public var valEvery: Int
    public var valImages: Int
    /// 0 = only at the end.
    public var sampleEvery: Int
    public var checkpointEvery: Int

    init(_ config: Config) {
        steps = config.int("pretrain.steps")
        batch = config.int("pretrain.batch")
        lr = config.double("pretrain.lr")
        warmupSteps = config.int("pretrain.warmup_steps")
        promptDropout = config.float("pretrain.prompt_dropout")
        gradAccum = config.int("pretrain.grad_accum")
        ema = config.double("pretrain.ema")
        valEvery = config.int("pretrain.val_every")
        valImages = config.int("pretrain.val_images")
        sampleEvery = config.int("pretrain.sample_every")
        checkpointEvery = config.int("pretrain.checkpoint_every")
    }

    /// Images per micro-batch.
    public var microBatch: Int { (batch + gradAccum - 1) / gradAccum }
}
