/// The fine-tune: the loss (`loss`, its beta and constants, `t_range`), the optimisation keys
/// (`lr`, `batch`, `train.grad_accum`, `steps`, `warmup_steps`) and the fine-tune's logging. Decoded from a config
/// already resolved for its method (`Config.forMethod`), so `beta` and `lr` are the method's.
public struct FineTuneSettings: Sendable {
    public var loss: PreferenceLoss.Settings
    public var lr: Double
    public var batch: Int
    /// Micro-batches a step's pairs are split into.
    public var gradAccum: Int
    public var steps: Int
    public var warmupSteps: Int
    /// Winner and loser of a pair share eps (never for KTO, whose images are drawn apart).
    public var sharedNoise: Bool
    /// InPO and SmPO: how x_t is found from x0; nil for every other loss.
    public var inversion: DDIMInversion?
    /// KTO: which images are desirable.
    public var ktoLabels: KTOLoss.Labels
    /// KTO: 0 = pairs as drawn; r in (0, 1) = each image desirable with probability r.
    public var ktoPositiveRatio: Double
    public var checkpointEvery: Int
    /// Held-out implicit accuracy and the DDE record every N steps; 0 = off.
    public var logEvery: Int
    /// The credit profile every N steps; 0 = off.
    public var creditEvery: Int
    public var probePairs: Int

    init(_ config: Config) throws {
        let T = config.int("timesteps"), kind = config.choice("loss", as: PreferenceLoss.Kind.self)
        let range: TimestepRange
        do { range = try TimestepRange.parse(config.string("t_range"), T: T) } catch { throw TrainingError("key 't_range': \(error)") }
        loss = PreferenceLoss.Settings(kind: kind, beta: config.double("beta"), range: range)
        loss.kappa = config.double("dde.kappa")
        loss.correctionScale = kind == .ddeSingle ? 0 : config.double("dde.correction_scale")
        loss.lambdaForm = config.choice("dde.lambda")
        loss.recordDecay = config.double("dde.ema")
        loss.recordBuckets = config.int("dde.record_buckets")
        loss.recordBiasCorrection = config.bool("dde.ema_bias_correction")
        loss.discGamma = config.double("disc.gamma")
        loss.discSteps = config.int("disc.steps")
        loss.discMode = config.choice("disc.mode")
        loss.ktoLambdaDesirable = config.double("kto.lambda_d")
        loss.ktoLambdaUndesirable = config.double("kto.lambda_u")
        loss.mapoSNR = config.double("mapo.snr")
        loss.mapoMarginScale = config.double("mapo.margin_scale")
        loss.dspoForm = config.choice("dspo.form")
        loss.dspoDetachWeight = config.bool("dspo.detach_weight")
        loss.dspoThreshold = config.double("dspo.sdxl_threshold")
        loss.softLabel = SoftLabel(scale: config.double("smpo.scale"), scoreMin: config.double("smpo.score_min"),
                                   scoreMax: config.double("smpo.score_max"))
        ktoLabels = config.choice("kto.labels")
        ktoPositiveRatio = config.double("kto.positive_ratio")
        let semantics: DDIMInversion.Semantics = config.choice("inpo.inverse_semantics")
        switch kind {
        case .inpo: inversion = DDIMInversion(steps: config.int("inpo.inv_steps"), eta: config.double("inpo.inv_eta"), semantics: semantics)
        case .smpo: inversion = DDIMInversion(steps: config.int("smpo.inv_steps"), eta: 0, semantics: semantics, renoise: true)
        default: inversion = nil
        }
        lr = config.double("lr")
        batch = config.int("batch")
        gradAccum = config.int("train.grad_accum")
        steps = config.int("steps")
        warmupSteps = config.int("warmup_steps")
        sharedNoise = config.bool("dpo.shared_noise") && !kind.drawsPerImage
        checkpointEvery = config.int("train.checkpoint_every")
        logEvery = config.int("train.log_every")
        creditEvery = config.int("train.credit_every")
        probePairs = config.int("train.probe_pairs")
    }
}
