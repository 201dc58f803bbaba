import Foundation

/// Learning-rate schedules as pure functions of the step, matching diffusers'
/// `diffusers.optimization` lambdas (`get_constant_schedule`, `get_constant_schedule_with_warmup`,
/// `get_cosine_schedule_with_warmup`).
///
/// `step` is the number of optimizer updates already done, i.e. `AdamW.step` *before* the
/// update it sets the rate for; this is `LambdaLR`'s `current_step` in a diffusers training
/// script (the first update runs at `factor(step: 0)`). So with a warm-up the first update has
/// learning rate exactly 0, as in diffusers; that is the convention chosen here, not PyTorch
/// folklore's `min(1, (step + 1) / warmup)`.
///
/// Resuming needs only the step: nothing here has state.
public enum LearningRateSchedule: Sendable, Equatable {
    /// `factor = 1`.
    case constant
    /// `factor = step / max(1, warmupSteps)` for `step < warmupSteps`, then 1.
    case constantWithWarmup(warmupSteps: Int)
    /// Linear warm-up as above, then `max(0, 0.5 (1 + cos(2 pi cycles progress)))` with
    /// `progress = (step - warmupSteps) / max(1, totalSteps - warmupSteps)`. With the default
    /// half cycle the rate reaches 0 at `totalSteps`; like diffusers, the formula is not
    /// clamped after that (it would rise again), so set `totalSteps` to the run's length.
    case cosineWithWarmup(warmupSteps: Int, totalSteps: Int, cycles: Double = 0.5)

    /// The multiplier of the base learning rate at `step` (>= 0), in `Double` like Python.
    public func factor(step: Int) -> Double {
        precondition(step >= 0, "LearningRateSchedule: negative step \(step)")
        switch self {
        case .constant:
            return 1
        case let .constantWithWarmup(warmup):
            if step < warmup { return Double(step) / Double(max(1, warmup)) }
            return 1
        case let .cosineWithWarmup(warmup, total, cycles):
            if step < warmup { return Double(step) / Double(max(1, warmup)) }
            let progress = Double(step - warmup) / Double(max(1, total - warmup))
            return max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
        }
    }

    /// `base * factor(step:)`, the rate to pass to `AdamW.update`.
    public func learningRate(base: Double, step: Int) -> Double {
        base * factor(step: step)
    }
}
