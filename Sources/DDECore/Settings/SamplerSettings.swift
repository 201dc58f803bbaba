/// The reverse process: `sampler`, `sample.steps`, `sample.guidance`, `sample.eta`.
public struct SamplerSettings: Sendable, Equatable {
    public var kind: SamplerKind
    public var steps: Int
    /// Classifier-free guidance scale (1 = none).
    public var guidance: Double
    /// DDIM's eta (0 = deterministic).
    public var eta: Double

    init(_ config: Config) {
        kind = config.choice("sampler")
        steps = config.int("sample.steps")
        guidance = config.double("sample.guidance")
        eta = config.double("sample.eta")
    }

    /// The scheduler these settings describe on `schedule`, with `steps` when given.
    public func scheduler(_ schedule: NoiseSchedule, steps: Int? = nil) -> DenoisingScheduler {
        switch kind {
        case .ddpm: DDPMScheduler(schedule: schedule, steps: steps ?? self.steps)
        case .ddim: DDIMScheduler(schedule: schedule, steps: steps ?? self.steps, eta: Float(eta))
        }
    }
}

/// The reverse process the `sampler` key names.
public enum SamplerKind: String, CaseIterable, Sendable {
    /// diffusers' DDIMScheduler, leading spacing.
    case ddim
    /// Ancestral DDPM.
    case ddpm
}
