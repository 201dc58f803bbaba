// Settings: the resolved config as typed values. `RunSettings` decodes a `Config` once into one
// value type per section of the key table (`ModelSettings`, `DataSettings`, `PretrainSettings`,
// `FineTuneSettings`, `SamplerSettings`, `EvalSettings`, `CompareSettings`, ...); every stage,
// command and report reads it. `overriding` and `forMethod` make per-run variants, and `config`
// travels along for stage signatures. Builds on Config; makes numeric-core values (`UNetConfig`,
// `NoiseSchedule`, `PreferenceLoss.Settings`, schedulers, `AdamW`) and Data's `TrainingImages`.

/// A resolved config decoded once into typed values, one per section of the key table: what
/// every stage, command and report below the command line reads. Nothing below it reads a key
/// by name (a test holds this); the resolved `config` travels along only to derive stage
/// signatures (`StageSignature`), to be saved with each stage and to make per-run variants
/// (`overriding`, `forMethod`).
public struct RunSettings: Sendable {
    public let config: Config

    // general
    public let seed: UInt64
    public let threads: Int
    /// `ranks`: MPI ranks a command runs on when it starts them itself (`MPILauncher`).
    public let ranks: Int
    public let winograd: Conv2d.WinogradSetting
    /// The run folder.
    public let out: String
    /// A model file to sample, evaluate or export (`checkpoint`), or "".
    public let checkpoint: String
    /// "", `auto` or a checkpoint path.
    public let resume: String
    /// The `base` key: a model file the fine-tune starts from, or "" (this run's pretrain stage).
    public let baseFile: String
    /// The `pairs` key: a pairs file, or "".
    public let pairsFile: String
    public let keepCheckpoints: Int

    public let model: ModelSettings
    public let data: DataSettings
    public let diffusion: DiffusionSettings
    /// `diffusion`'s schedule, made once.
    public let schedule: NoiseSchedule
    public let pretrain: PretrainSettings
    public let annotators: AnnotatorSettings
    public let optimizer: OptimizerSettings
    public let fineTune: FineTuneSettings
    /// LoRA's keys: the fine-tune's adapters, bench's and export's.
    public let lora: LoRASettings
    public let pairs: PairsSettings
    /// `inputs`: `dde-train forward`'s input tensors.
    public let inputs: String
    public let sampler: SamplerSettings
    public let sample: SampleSettings
    public let eval: EvalSettings
    public let compare: CompareSettings
    public let bench: BenchSettings

    /// Decodes every section; the loader has already checked each value and the checks
    /// between keys, so only a `t_range` that selects no step, or sizes beyond the machine's
    /// memory (`MemoryEstimate`, a `ConfigError` naming the key), can still fail.
    public init(_ config: Config) throws {
        self.config = config
        seed = UInt64(config.int("seed"))
        threads = config.int("threads")
        ranks = config.int("ranks")
        winograd = config.choice("conv.winograd")
        out = config.outDirectory
        checkpoint = config.string("checkpoint")
        inputs = config.string("inputs")
        resume = config.string("resume")
        baseFile = config.string("base")
        pairsFile = config.string("pairs")
        keepCheckpoints = config.int("keep_checkpoints")
        model = ModelSettings(config)
        data = DataSettings(config)
        diffusion = DiffusionSettings(config)
        schedule = diffusion.schedule
        pretrain = PretrainSettings(config)
        annotators = AnnotatorSettings(config)
        optimizer = OptimizerSettings(config)
        fineTune = try FineTuneSettings(config)
        lora = LoRASettings(config)
        pairs = PairsSettings(config)
        sampler = SamplerSettings(config)
        sample = SampleSettings(config)
        eval = EvalSettings(config)
        compare = CompareSettings(config)
        bench = BenchSettings(config)
        // The sizes against the machine's memory, before any stage starts.
        try MemoryEstimate.check(self)
    }

    /// These settings with some keys set anew, validated like command-line overrides.
    public func overriding(_ values: [String: String]) throws -> RunSettings {
        try RunSettings(config.overriding(values))
    }

    /// These settings for one fine-tune with `loss` (`Config.forMethod`): its own beta and
    /// learning rate, or the given ones (a grid point), and `extra` keys set.
    public func forMethod(_ loss: String, beta: Double? = nil, lr: Double? = nil, extra: [String: String] = [:]) throws -> RunSettings {
        try RunSettings(config.forMethod(loss, beta: beta, lr: lr, extra: extra))
    }

    /// The base model a later stage starts from: the `base` key, or this run's pretrain stage.
    public var basePath: String { baseFile.isEmpty ? RunLayout(out: out).baseModel : baseFile }

    /// A workspace computing as these settings say (`threads`, `conv.winograd`): a command makes
    /// one per run and gives it to every stage and model.
    public func makeWorkspace() -> Workspace {
        Workspace(threads: threads, convolution: winograd)
    }
}
