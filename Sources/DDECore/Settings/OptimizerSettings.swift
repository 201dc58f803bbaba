/// AdamW and clipping, shared by pretraining and the fine-tune: `weight_decay`, `adam_beta1`,
/// `adam_beta2`, `adam_eps`, `grad_clip`.
public struct OptimizerSettings: Sendable, Equatable {
    public var weightDecay: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    /// The global gradient norm is clipped to this; 0 = off.
    public var gradClip: Double

    init(_ config: Config) {
        weightDecay = config.double("weight_decay")
        beta1 = config.double("adam_beta1")
        beta2 = config.double("adam_beta2")
        eps = config.double("adam_eps")
        gradClip = config.double("grad_clip")
    }

    /// AdamW over `store` with these settings.
    public func adamW(_ store: ParameterStore) -> AdamW {
        AdamW(store, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
    }

    /// Clips the gradients (when `gradClip` > 0) and returns their norm before clipping.
    public func clip(_ store: ParameterStore, _ ws: Workspace) -> Double {
        gradClip > 0 ? Double(clipGradNorm(store, maxNorm: gradClip, ws)) : gradientNorm(store, ws)
    }
}
