/// The noise schedule's keys (diffusers' `DDPMScheduler` arguments): `schedule`, `timesteps`,
/// `beta_start`, `beta_end`.
public struct DiffusionSettings: Sendable, Equatable {
    public var kind: NoiseSchedule.Kind
    public var timesteps: Int
    public var betaStart: Double
    public var betaEnd: Double

    init(_ config: Config) {
        kind = config.choice("schedule")
        timesteps = config.int("timesteps")
        betaStart = config.double("beta_start")
        betaEnd = config.double("beta_end")
    }

    public var schedule: NoiseSchedule { NoiseSchedule(kind: kind, timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd) }
}
