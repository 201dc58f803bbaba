/// DDIM sampling steps exactly as diffusers' `DDIMScheduler` with Stable Diffusion's settings:
/// `timestep_spacing = "leading"`, `steps_offset = 1`, `set_alpha_to_one = false`,
/// `clip_sample = false`, `prediction_type = "epsilon"`.
///
/// Network steps (diffusers' 0-based k; our math t = k + 1): `k_i = i * (T / S) + offset`,
/// descending, for S inference steps. One step from k to `k - T/S`:
///
///     x0   = (x - sqrt(1 - a_k) eps) / sqrt(a_k)
///     std  = eta * sqrt((1 - a_prev)/(1 - a_k) * (1 - a_k/a_prev))
///     x'   = sqrt(a_prev) x0 + sqrt(1 - a_prev - std^2) eps + std * z
///
/// with `a_k = abar_{k+1}` and, past the end, `a_prev = abar_1` (set_alpha_to_one = false).
public struct DDIMScheduler: Sendable {
    public let schedule: NoiseSchedule
    public let steps: Int
    public let eta: Float
    public let stepsOffset: Int
    /// The network steps k, noisiest first.
    public let timesteps: [Int]

    public init(schedule: NoiseSchedule, steps: Int, eta: Float = 0, stepsOffset: Int = 1) {
        precondition(steps >= 1 && steps <= schedule.T)
        self.schedule = schedule
        self.steps = steps
        self.eta = eta
        self.stepsOffset = stepsOffset
        let ratio = schedule.T / steps
        timesteps = (0..<steps).reversed().map { $0 * ratio + stepsOffset }
    }

    /// `alphas_cumprod[k]` in diffusers' 0-based indexing; `k < 0` is the final value.
    func alphaCumprod(_ k: Int) -> Double { k >= 0 ? schedule.alphaBar[k + 1] : schedule.alphaBar[1] }

    /// One step in place: x (count floats) from network step k, given the epsilon prediction and,
    /// when eta > 0, standard-normal noise z.
    public func step(_ x: UnsafeMutablePointer<Float>, eps: UnsafePointer<Float>, k: Int,
                     noise: UnsafePointer<Float>?, count: Int) {
        let prev = k - schedule.T / steps
        let at = alphaCumprod(k), ap = alphaCumprod(prev)
        let variance = (1 - ap) / (1 - at) * (1 - at / ap)
        let std = Double(eta) * variance.squareRoot()
        let sa = Float(at.squareRoot()), sb = Float((1 - at).squareRoot())
        let cx0 = Float(ap.squareRoot()), cdir = Float(max(0, 1 - ap - std * std).squareRoot())
        let cz = Float(std)
        for i in 0..<count {
            let x0 = (x[i] - sb * eps[i]) / sa
            var v = cx0 * x0 + cdir * eps[i]
            if let noise, cz > 0 { v += cz * noise[i] }
            x[i] = v
        }
    }
}
