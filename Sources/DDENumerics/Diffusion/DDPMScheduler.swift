/// Ancestral DDPM sampling as diffusers' `DDPMScheduler` (`variance_type = "fixed_small"`,
/// `clip_sample = false`, epsilon prediction), on the same "leading" step spacing as DDIM.
///
/// From k to `prev = k - T/S`, with `a = abar_{k+1}`, `a' = abar_{prev+1}` (1 past the end),
/// `alpha = a/a'`, `beta = 1 - alpha`:
///
///     x0   = (x - sqrt(1 - a) eps) / sqrt(a)
///     mean = sqrt(a') beta / (1 - a) x0 + sqrt(alpha) (1 - a') / (1 - a) x
///     x'   = mean + sqrt((1 - a')/(1 - a) beta) z        (no noise at k = 0)
public struct DDPMScheduler: Sendable {
    public let schedule: NoiseSchedule
    public let steps: Int
    public let stepsOffset: Int
    public let timesteps: [Int]

    public init(schedule: NoiseSchedule, steps: Int, stepsOffset: Int = 1) {
        precondition(steps >= 1 && steps <= schedule.T)
        self.schedule = schedule
        self.steps = steps
        self.stepsOffset = stepsOffset
        let ratio = schedule.T / steps
        timesteps = (0..<steps).reversed().map { min($0 * ratio + stepsOffset, schedule.T - 1) }
    }

    public func step(_ x: UnsafeMutablePointer<Float>, eps: UnsafePointer<Float>, k: Int,
                     noise: UnsafePointer<Float>?, count: Int) {
        let prev = k - schedule.T / steps
        let a = schedule.alphaBar[k + 1], ap = prev >= 0 ? schedule.alphaBar[prev + 1] : 1
        let alpha = a / ap, beta = 1 - alpha
        let sa = Float(a.squareRoot()), sb = Float((1 - a).squareRoot())
        let c0 = Float(ap.squareRoot() * beta / (1 - a)), ct = Float(alpha.squareRoot() * (1 - ap) / (1 - a))
        let sigma = k > 0 ? Float(max((1 - ap) / (1 - a) * beta, 1e-20).squareRoot()) : 0
        for i in 0..<count {
            let x0 = (x[i] - sb * eps[i]) / sa
            var v = c0 * x0 + ct * x[i]
            if let noise, sigma > 0 { v += sigma * noise[i] }
            x[i] = v
        }
    }
}
