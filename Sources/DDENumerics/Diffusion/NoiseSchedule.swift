// Diffusion: the noise schedule and the reverse process. `NoiseSchedule` holds beta, alpha-bar and
// DDE's weights (b2, lambda) per math step t = 1...T, in Double; the network sees k = t - 1, as
// diffusers counts. `DDIMScheduler` and `DDPMScheduler` follow diffusers' schedulers behind the
// `DenoisingScheduler` protocol, and `GuidedSampler` runs one with classifier-free guidance on a
// `TextToImageModel`. Builds on Model, Tensor and Random.

import Foundation

/// The forward-noising schedule, indexed by the math step `t = 1...T` (losses.md); the
/// network sees `k = t - 1`, as diffusers counts. Computed in `Double`.
///
/// - `beta_t`, `alpha_t = 1 - beta_t`, `abar_t = prod_{s<=t} alpha_s`, `abar_0 = 1`.
/// - `b2_t = (1 - abar_t) / abar_t`: the single-shot DDIM weight of DDE (losses.md).
/// - `lambda_t`: DDE's stepwise weight; `posterior` is `beta_t / (2 alpha_t (1 - abar_{t-1}))`
///   (the `beta` form at t = 1, where the posterior variance is zero), `beta` is
///   `beta_t / (2 alpha_t (1 - abar_t))`.
public struct NoiseSchedule: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// DDPM's `linspace(beta_start, beta_end, T)`.
        case linear
        /// Stable Diffusion's `linspace(sqrt(beta_start), sqrt(beta_end), T)^2`.
        case scaledLinear = "scaled_linear"
        /// Improved DDPM's cosine `abar(t) = cos^2((t/T + 0.008)/1.008 * pi/2)`, betas capped at 0.999.
        case squaredCosCapV2 = "squaredcos_cap_v2"
    }

    public enum LambdaForm: String, Sendable, CaseIterable {
        case posterior
        case beta
    }

    public let kind: Kind
    public let T: Int
    /// Index 0 is unused padding so that `beta[t]` reads as in the paper; `alphaBar[0] = 1`.
    public let beta: [Double]
    public let alphaBar: [Double]

    public init(kind: Kind, timesteps T: Int, betaStart: Double = 0.00085, betaEnd: Double = 0.012) {
        precondition(T >= 2)
        self.kind = kind
        self.T = T
        var beta = [Double](repeating: 0, count: T + 1)
        for i in 0..<T {
            let f = Double(i) / Double(T - 1)
            switch kind {
            case .linear:
                beta[i + 1] = betaStart + f * (betaEnd - betaStart)
            case .scaledLinear:
                let s = betaStart.squareRoot() + f * (betaEnd.squareRoot() - betaStart.squareRoot())
                beta[i + 1] = s * s
            case .squaredCosCapV2:
                func abar(_ x: Double) -> Double { pow(cos((x + 0.008) / 1.008 * Double.pi / 2), 2) }
                beta[i + 1] = min(1 - abar(Double(i + 1) / Double(T)) / abar(Double(i) / Double(T)), 0.999)
            }
        }
        var alphaBar = [Double](repeating: 1, count: T + 1)
        for t in 1...T { alphaBar[t] = alphaBar[t - 1] * (1 - beta[t]) }
        self.beta = beta
        self.alphaBar = alphaBar
    }

    public func alpha(_ t: Int) -> Double { 1 - beta[t] }

    /// `(1 - abar_t) / abar_t`.
    public func b2(_ t: Int) -> Double { (1 - alphaBar[t]) / alphaBar[t] }

    public func lambda(_ t: Int, _ form: LambdaForm = .posterior) -> Double {
        switch form {
        case .beta:
            return beta[t] / (2 * alpha(t) * (1 - alphaBar[t]))
        case .posterior:
            if t == 1 { return lambda(1, .beta) }
            return beta[t] / (2 * alpha(t) * (1 - alphaBar[t - 1]))
        }
    }

    /// `sqrt(abar_t)` and `sqrt(1 - abar_t)` as Float, for noising `x_t = a x0 + s eps`.
    public func noisingCoefficients(_ t: Int) -> (signal: Float, noise: Float) {
        (Float(alphaBar[t].squareRoot()), Float((1 - alphaBar[t]).squareRoot()))
    }
}
