// Losses: the six fine-tuning objectives of losses.md. `PreferenceLoss` (sft, uniform, discounted,
// dde, dde-single, dde-step) draws each pair's t and turns the per-pair differences D into the
// loss, z and dL/dD; the network passes that produce D are the caller's. `DDERecord` is DDE's
// record A[1..T], from which the correction C_t is read, and `TimestepRange` is the `t_range`
// segment. Builds on Diffusion (`NoiseSchedule`) and Random.

import Foundation

/// The six fine-tuning losses of losses.md. Every DPO-style loss is
/// `L = mean over pairs of -log sigmoid(z)` with `D_t = (e_theta(w) - e_ref(w)) - (e_theta(l) - e_ref(l))`;
/// only `z` and the way t is drawn differ:
///
/// | loss | t | z |
/// | --- | --- | --- |
/// | uniform (Diffusion-DPO) | U{range} | `-(beta/2) D_t` |
/// | discounted, mode sample | P(t) ∝ gamma^n(t) | `-(beta/2) D_t` |
/// | discounted, mode weight | U{range} | `-(beta/2) w(t) D_t`, w = gamma^n normalised to mean 1 |
/// | dde | U{range} | `-beta (kappa b2_t D_t + rho C_t)`, `C_t = sum_{s>t} A[s]` |
/// | dde-single | U{range} | as dde with rho = 0 |
/// | dde-step | U{range} | `-beta (lambda_t D_t + rho sum_{s != t} A[s])` |
///
/// with `n(t) = floor((T - t) * disc.steps / T)` and the record A updated after each iteration
/// from `lambda_s D_s` (`DDERecord`). C and the record sum carry no gradient: they only move z.
/// SFT is the plain epsilon loss on the winners, `mean e_theta(w)`, t ~ U{range}.
public final class PreferenceLoss {
    public enum Kind: String, Sendable, CaseIterable {
        case sft, uniform, discounted, dde
        case ddeSingle = "dde-single"
        case ddeStep = "dde-step"

        public var usesRecord: Bool { self == .dde || self == .ddeStep }
        public var isPreference: Bool { self != .sft }
    }

    public struct Settings: Sendable {
        public var kind: Kind
        public var beta: Double
        public var kappa: Double = 0.5
        public var correctionScale: Double = 1
        public var lambdaForm: NoiseSchedule.LambdaForm = .posterior
        public var recordDecay: Double = 0.95
        public var recordBuckets: Int = 0          // 0 = T
        public var recordBiasCorrection = false
        public var discGamma: Double = 0.9
        public var discSteps: Int = 50
        public var discMode = DiscountMode.sample
        public var range: TimestepRange

        public init(kind: Kind, beta: Double, range: TimestepRange) {
            self.kind = kind
            self.beta = beta
            self.range = range
        }
    }

    /// One iteration's numbers.
    public struct Evaluation: Sendable {
        public var loss: Double
        public var z: [Double]
        /// dL/dD per pair (the gradient flows into e_theta(w) with this sign and e_theta(l) with the opposite).
        public var dLdD: [Double]
        /// The record term each pair's z used (C_t for dde, the sum over s != t for dde-step, 0 otherwise).
        public var correction: [Double]
    }

    public let settings: Settings
    public let schedule: NoiseSchedule
    public private(set) var record: DDERecord?
    /// Discounted: gamma^n(t) per t (index 0 unused), and for mode weight its normalisation.
    let discount: [Double]
    let discountCDF: [Double]
    let discountMean: Double

    public init(_ settings: Settings, schedule: NoiseSchedule) {
        self.settings = settings
        self.schedule = schedule
        let T = schedule.T
        if settings.kind.usesRecord {
            record = DDERecord(T: T, buckets: settings.recordBuckets == 0 ? T : settings.recordBuckets,
                               decay: settings.recordDecay, biasCorrection: settings.recordBiasCorrection)
        }
        var discount = [Double](repeating: 0, count: T + 1)
        for t in 1...T {
            let n = (T - t) * settings.discSteps / T
            discount[t] = pow(settings.discGamma, Double(n))
        }
        self.discount = discount
        let r = settings.range
        var cdf: [Double] = [], total = 0.0
        for t in r.first...r.last { total += discount[t]; cdf.append(total) }
        discountCDF = cdf.map { $0 / total }
        discountMean = total / Double(r.count)
    }

    /// n(t): the step's position in a `disc.steps`-step sampler, 0 at t = T.
    public func discountIndex(_ t: Int) -> Int { (schedule.T - t) * settings.discSteps / schedule.T }

    /// Draws one pair's t.
    public func drawTimestep(_ rng: inout RandomStream) -> Int {
        let r = settings.range
        if settings.kind == .discounted && settings.discMode == .sample {
            let u = rng.uniformDouble()
            var lo = 0, hi = discountCDF.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if discountCDF[mid] > u { hi = mid } else { lo = mid + 1 }
            }
            return r.first + lo
        }
        return r.first + rng.int(below: r.count)
    }

    /// The probability that `drawTimestep` returns t (the credit profile's density).
    public func drawProbability(_ t: Int) -> Double {
        let r = settings.range
        guard t >= r.first && t <= r.last else { return 0 }
        if settings.kind == .discounted && settings.discMode == .sample {
            let i = t - r.first
            return discountCDF[i] - (i > 0 ? discountCDF[i - 1] : 0)
        }
        return 1 / Double(r.count)
    }

    /// z for each pair and dL/dD, before this iteration's record update.
    public func evaluate(D: [Double], t: [Int]) -> Evaluation {
        precondition(settings.kind.isPreference && D.count == t.count)
        let p = Double(D.count), beta = settings.beta
        let suffix = record?.suffixSums()
        var z = [Double](repeating: 0, count: D.count), slope = z, correction = z
        for i in 0..<D.count {
            let ti = t[i]
            switch settings.kind {
            case .uniform:
                slope[i] = -beta / 2
            case .discounted:
                slope[i] = settings.discMode == .weight ? -beta / 2 * discount[ti] / discountMean : -beta / 2
            case .ddeSingle:
                slope[i] = -beta * settings.kappa * schedule.b2(ti)
            case .dde:
                slope[i] = -beta * settings.kappa * schedule.b2(ti)
                correction[i] = suffix![ti]
            case .ddeStep:
                slope[i] = -beta * schedule.lambda(ti, settings.lambdaForm)
                let a = record!.value(bucket: record!.bucket(ti))
                correction[i] = suffix![0] - a
            case .sft:
                break
            }
            z[i] = slope[i] * D[i] - beta * settings.correctionScale * correction[i]
        }
        var loss = 0.0, dLdD = [Double](repeating: 0, count: D.count)
        for i in 0..<D.count {
            loss += Self.negativeLogSigmoid(z[i])  // d/dz = -sigmoid(-z)
            let sigmoidMinusZ = 1 / (1 + exp(z[i]))
            dLdD[i] = -sigmoidMinusZ * slope[i] / p
        }
        return Evaluation(loss: loss / p, z: z, dLdD: dLdD, correction: correction)
    }

    /// `-log sigmoid(z) = softplus(-z)`, computed stably for any finite z.
    public static func negativeLogSigmoid(_ z: Double) -> Double {
        z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z))
    }

    /// The record's update after an iteration (dde and dde-step): `lambda_s D_s` per pair.
    public func updateRecord(D: [Double], t: [Int]) {
        guard record != nil else { return }
        record!.update(steps: t, values: zip(D, t).map { schedule.lambda($1, settings.lambdaForm) * $0 })
    }

    /// Restores the record from a checkpoint.
    public func restoreRecord(_ restored: DDERecord) {
        record = restored
    }
}

/// How Discounted applies gamma^n(t) (losses.md): `sample` draws t ∝ gamma^n (the authors'
/// code), `weight` draws t uniformly and weights z by gamma^n.
public enum DiscountMode: String, CaseIterable, Sendable {
    case sample, weight
}
