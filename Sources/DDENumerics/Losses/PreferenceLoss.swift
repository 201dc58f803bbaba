// Losses: the fine-tuning objectives of losses.md and losses-extra.md. `PreferenceLoss` (sft,
// uniform, discounted, dde, dde-single, dde-step; ipo, hinge, kto, mapo, dspo, inpo, smpo) draws
// each pair's t and turns a batch's per-image errors into the loss, z and the gradients with
// respect to the policy's errors; the network passes that produce the errors are the caller's.
// `DPOVariant` (hinge, IPO), `SoftLabel` (SmPO), `KTOLoss`, `MaPOLoss` and `DSPOLoss` hold the
// newer losses' formulas; `DDERecord` is DDE's record A[1..T], from which the correction C_t is
// read, and `TimestepRange` is the `t_range` segment. Builds on Diffusion (`NoiseSchedule`) and
// Random.

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
///
/// The newer losses (losses-extra.md), t ~ U{range} for all:
///
/// | loss | L per pair (or image) |
/// | --- | --- |
/// | ipo, hinge | `(D + 1/(2 beta))^2`, `max(0, 1 + beta D)` (`DPOVariant`, the diffusers script's beta) |
/// | inpo | as uniform, at an x_t found by DDIM inversion of x0 (the caller's) |
/// | smpo | as uniform with beta scaled by `smpo.scale (2p - 1)`, p the pair's soft label, and inpo's x_t |
/// | kto | per image, each with its own t and noise (`KTOLoss`) |
/// | mapo | reference-free: winner MSE and a bounded margin (`MaPOLoss`) |
/// | dspo | on z and the winner's policy-to-reference distance d_w (`DSPOLoss`) |
public final class PreferenceLoss {
    public enum Kind: String, Sendable, CaseIterable {
        case sft, uniform, discounted, dde
        case ddeSingle = "dde-single"
        case ddeStep = "dde-step"
        case ipo, hinge, kto, mapo, dspo, inpo, smpo

        public var usesRecord: Bool { self == .dde || self == .ddeStep }
        /// Trains on winners and losers (every loss but SFT).
        public var isPreference: Bool { self != .sft }
        /// Needs the frozen reference's errors (MaPO is reference-free, SFT has none).
        public var needsReference: Bool { isPreference && self != .mapo }
        /// A function of D alone (and the record, and SmPO's soft label): dL/de_theta(l) = -dL/de_theta(w).
        public var dependsOnDifferenceOnly: Bool { ![.sft, .kto, .mapo, .dspo].contains(self) }
        /// KTO: winner and loser are two images, each with its own t and noise.
        public var drawsPerImage: Bool { self == .kto }
        /// InPO and SmPO: x_t comes from a DDIM inversion of x0 by the policy.
        public var invertsImages: Bool { self == .inpo || self == .smpo }
        /// DSPO: needs the reference's whole prediction on the winners, not only its error.
        public var needsWinnerDistance: Bool { self == .dspo }
        /// SmPO: needs each pair's soft label.
        public var needsSoftLabel: Bool { self == .smpo }
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
        /// KTO's weights of desirable and undesirable images.
        public var ktoLambdaDesirable: Double = 1
        public var ktoLambdaUndesirable: Double = 1
        /// MaPO's `snr` and margin scale (0 = T).
        public var mapoSNR: Double = 0.5
        public var mapoMarginScale: Double = 0
        public var dspoForm = DSPOLoss.Form.sd15
        public var dspoDetachWeight = false
        public var dspoThreshold: Double = 0.1
        public var softLabel = SoftLabel(scale: 10, scoreMin: 0, scoreMax: 1)

        public init(kind: Kind, beta: Double, range: TimestepRange) {
            self.kind = kind
            self.beta = beta
            self.range = range
        }
    }

    /// One iteration's numbers.
    public struct Evaluation: Sendable {
        public var loss: Double
        /// Each pair's logit: z for the DPO family and DSPO, KTO's u of the winner, MaPO's margin m.
        public var z: [Double]
        /// dL/dD per pair for a loss of D alone; for the others the antisymmetric part
        /// `(dL/de_theta(w) - dL/de_theta(l)) / 2`, the credit the pair's t receives.
        public var dLdD: [Double]
        /// dL/de_theta(w) and dL/de_theta(l) per pair (of the batch's mean loss).
        public var dLdWinner: [Double]
        public var dLdLoser: [Double]
        /// DSPO: dL/dd_w per pair; empty for every other loss.
        public var dLdDistance: [Double] = []
        /// The record term each pair's z used (C_t for dde, the sum over s != t for dde-step, 0 otherwise).
        public var correction: [Double]

        /// A loss of D alone: dL/de_theta(w) = dL/dD, dL/de_theta(l) = -dL/dD.
        init(loss: Double, z: [Double], dLdD: [Double], correction: [Double]) {
            self.loss = loss
            self.z = z
            self.dLdD = dLdD
            dLdWinner = dLdD
            dLdLoser = dLdD.map { -$0 }
            self.correction = correction
        }

        /// A loss of each image's error: the credit dL/dD is the gradients' antisymmetric part.
        init(loss: Double, z: [Double], dLdWinner: [Double], dLdLoser: [Double], dLdDistance: [Double] = []) {
            self.loss = loss
            self.z = z
            self.dLdWinner = dLdWinner
            self.dLdLoser = dLdLoser
            self.dLdDistance = dLdDistance
            dLdD = zip(dLdWinner, dLdLoser).map { ($0 - $1) / 2 }
            correction = [Double](repeating: 0, count: z.count)
        }
    }

    /// One micro-batch's per-pair inputs, winners and losers apart: the policy's errors, the
    /// reference's (empty for MaPO), each pair's t (KTO: the winner's), DSPO's winner distance d_w
    /// and SmPO's soft label p (empty when the loss does not use them), and the record term C_t
    /// when it is given rather than read from the record (`dde-train inspect loss`).
    public struct Batch: Sendable {
        public var policyWinner: [Double]
        public var policyLoser: [Double]
        public var referenceWinner: [Double]
        public var referenceLoser: [Double]
        public var t: [Int]
        public var winnerDistance: [Double]
        public var softLabel: [Double]
        public var correction: [Double]?
        /// KTO: whether each pair's winner and loser are desirable (empty: winners are, losers are not).
        public var winnerDesirable: [Bool] = []
        public var loserDesirable: [Bool] = []

        public init(policyWinner: [Double], policyLoser: [Double], referenceWinner: [Double], referenceLoser: [Double], t: [Int],
                    winnerDistance: [Double] = [], softLabel: [Double] = [], correction: [Double]? = nil) {
            self.policyWinner = policyWinner
            self.policyLoser = policyLoser
            self.referenceWinner = referenceWinner
            self.referenceLoser = referenceLoser
            self.t = t
            self.winnerDistance = winnerDistance
            self.softLabel = softLabel
            self.correction = correction
        }

        /// `D = (e_theta(w) - e_ref(w)) - (e_theta(l) - e_ref(l))` per pair (empty without a reference).
        public var differences: [Double] {
            referenceWinner.isEmpty ? [] : (0..<t.count).map {
                (policyWinner[$0] - referenceWinner[$0]) - (policyLoser[$0] - referenceLoser[$0])
            }
        }
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

    /// Every loss on one micro-batch: its mean, z, and the gradients with respect to the
    /// policy's errors (and DSPO's d_w), before this iteration's record update.
    public func evaluate(_ batch: Batch) -> Evaluation {
        let kind = settings.kind, beta = settings.beta
        precondition(kind.isPreference && batch.policyWinner.count == batch.t.count)
        switch kind {
        case .kto:
            // Winners desirable, losers undesirable (kto.labels = pair) unless the batch says otherwise; one reference point.
            let items = batch.policyWinner.indices.map {
                KTOLoss.Item(policy: batch.policyWinner[$0], reference: batch.referenceWinner[$0],
                             desirable: batch.winnerDesirable.isEmpty || batch.winnerDesirable[$0])
            } + batch.policyLoser.indices.map {
                KTOLoss.Item(policy: batch.policyLoser[$0], reference: batch.referenceLoser[$0],
                             desirable: !batch.loserDesirable.isEmpty && batch.loserDesirable[$0])
            }
            let p = batch.t.count
            let r = KTOLoss.evaluate(items, beta: beta, lambdaDesirable: settings.ktoLambdaDesirable,
                                     lambdaUndesirable: settings.ktoLambdaUndesirable, referencePoint: KTOLoss.referencePoint(items))
            return Evaluation(loss: r.loss, z: Array(r.u[..<p]), dLdWinner: Array(r.dLde[..<p]), dLdLoser: Array(r.dLde[p...]))
        case .mapo:
            let r = MaPOLoss.evaluate(winner: batch.policyWinner, loser: batch.policyLoser, beta: beta, snr: settings.mapoSNR,
                                      marginScale: settings.mapoMarginScale > 0 ? settings.mapoMarginScale : Double(schedule.T))
            return Evaluation(loss: r.loss, z: r.m, dLdWinner: r.dLdWinner, dLdLoser: r.dLdLoser)
        case .dspo:
            let dspo = DSPOLoss(form: settings.dspoForm, beta: beta, detachWeight: settings.dspoDetachWeight, threshold: settings.dspoThreshold)
            let r = dspo.evaluate(D: batch.differences, policyWinner: batch.policyWinner, referenceWinner: batch.referenceWinner,
                                  distance: batch.winnerDistance)
            return Evaluation(loss: r.loss, z: r.z, dLdWinner: r.dLdWinner, dLdLoser: r.dLdLoser, dLdDistance: r.dLdDistance)
        default:
            return evaluate(D: batch.differences, t: batch.t, correction: batch.correction, softLabel: batch.softLabel)
        }
    }

    /// A loss of D alone: z for each pair and dL/dD, before this iteration's record update. The
    /// record term is read from the record unless `given`; SmPO needs each pair's `softLabel`.
    public func evaluate(D: [Double], t: [Int], correction given: [Double]? = nil, softLabel: [Double] = []) -> Evaluation {
        precondition(settings.kind.dependsOnDifferenceOnly && D.count == t.count)
        precondition(!settings.kind.needsSoftLabel || softLabel.count == D.count, "smpo needs a soft label per pair")
        let p = Double(D.count), beta = settings.beta
        let suffix = given == nil ? record?.suffixSums() : nil
        var z = [Double](repeating: 0, count: D.count), slope = z, correction = z
        var loss = 0.0, dLdD = [Double](repeating: 0, count: D.count)
        for i in 0..<D.count {
            let ti = t[i]
            switch settings.kind {
            case .hinge, .ipo:
                let r = settings.kind == .hinge ? DPOVariant.hinge(D: D[i], beta: beta) : DPOVariant.ipo(D: D[i], beta: beta)
                z[i] = -beta * D[i]
                loss += r.loss
                dLdD[i] = r.dLdD / p
                continue
            case .uniform, .inpo:
                slope[i] = -beta / 2
            case .smpo:
                slope[i] = -beta / 2 * settings.softLabel.betaFactor(p: softLabel[i])
            case .discounted:
                slope[i] = settings.discMode == .weight ? -beta / 2 * discount[ti] / discountMean : -beta / 2
            case .ddeSingle:
                slope[i] = -beta * settings.kappa * schedule.b2(ti)
            case .dde:
                slope[i] = -beta * settings.kappa * schedule.b2(ti)
                correction[i] = given?[i] ?? suffix![ti]
            case .ddeStep:
                slope[i] = -beta * schedule.lambda(ti, settings.lambdaForm)
                correction[i] = given?[i] ?? (suffix![0] - record!.value(bucket: record!.bucket(ti)))
            case .sft, .kto, .mapo, .dspo:
                preconditionFailure("\(settings.kind.rawValue) is not a loss of D alone")
            }
            z[i] = slope[i] * D[i] - beta * settings.correctionScale * correction[i]
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
