import Foundation

/// `dde-train inspect loss`: one loss on a batch holding one pair (KTO: its two images), from
/// errors given by hand, through the code training runs (`PreferenceLoss.evaluate`), so that
/// anyone can check a loss against a formula or another implementation from outside.
public struct LossInspection {
    /// The pair's numbers: its t, the four errors, and what some losses also read (the record's
    /// term `c_t` for dde and dde-step, DSPO's winner distance `d_w`, SmPO's soft label `p`).
    public struct Inputs: Sendable {
        public var t: Int
        public var policyWinner: Double, policyLoser: Double
        public var referenceWinner: Double, referenceLoser: Double
        public var correction = 0.0
        public var winnerDistance = 0.0
        public var softLabel: Double?

        public init(t: Int, policyWinner: Double, policyLoser: Double, referenceWinner: Double, referenceLoser: Double) {
            self.t = t
            self.policyWinner = policyWinner
            self.policyLoser = policyLoser
            self.referenceWinner = referenceWinner
            self.referenceLoser = referenceLoser
        }

        /// The names `inspect loss` reads beside the config keys.
        public static let names = ["t", "e_w", "e_l", "e_ref_w", "e_ref_l", "c_t", "d_w", "p"]

        /// From `name=value` arguments; throws naming a missing, unknown or malformed one.
        public init(arguments: [String: String], T: Int) throws {
            for name in arguments.keys where !Self.names.contains(name) {
                throw TrainingError("inspect loss: unknown input '\(name)' (the inputs are \(Self.names.joined(separator: ", ")))")
            }
            func number(_ name: String, required: Bool) throws -> Double? {
                guard let text = arguments[name] else {
                    if required { throw TrainingError("inspect loss: missing \(name)=X (needed: t, e_w, e_l, e_ref_w, e_ref_l)") }
                    return nil
                }
                guard let v = Double(text), v.isFinite else { throw TrainingError("inspect loss: \(name)=\(text) is not a finite number") }
                return v
            }
            let t = try number("t", required: true)!
            guard t == t.rounded(), t >= 1, t <= Double(T) else { throw TrainingError("inspect loss: t=\(arguments["t"]!) is not a step in 1...\(T)") }
            self.init(t: Int(t), policyWinner: try number("e_w", required: true)!, policyLoser: try number("e_l", required: true)!,
                      referenceWinner: try number("e_ref_w", required: true)!, referenceLoser: try number("e_ref_l", required: true)!)
            correction = try number("c_t", required: false) ?? 0
            winnerDistance = try number("d_w", required: false) ?? 0
            softLabel = try number("p", required: false)
        }
    }

    /// The loss's value and its gradient with respect to e_theta(w) and e_theta(l), with the
    /// constants of `settings` (already resolved for the loss, `RunSettings.forMethod`).
    public static func evaluate(_ settings: PreferenceLoss.Settings, schedule: NoiseSchedule, _ x: Inputs) throws
        -> (value: Double, gradWinner: Double, gradLoser: Double) {
        let kind = settings.kind
        guard settings.range.first <= x.t && x.t <= settings.range.last else {
            throw TrainingError("inspect loss: t=\(x.t) is outside t_range (\(settings.range.first)...\(settings.range.last))")
        }
        if kind == .sft { return (x.policyWinner, 1, 0) }  // mean e_theta(w): FineTuneStep's SFT
        if kind.needsSoftLabel && x.softLabel == nil { throw TrainingError("inspect loss: smpo needs the pair's soft label p=X") }
        let loss = PreferenceLoss(settings, schedule: schedule)
        let ev = loss.evaluate(PreferenceLoss.Batch(
            policyWinner: [x.policyWinner], policyLoser: [x.policyLoser], referenceWinner: [x.referenceWinner],
            referenceLoser: [x.referenceLoser], t: [x.t], winnerDistance: [x.winnerDistance], softLabel: x.softLabel.map { [$0] } ?? [],
            correction: kind.usesRecord ? [x.correction] : nil))
        return (ev.loss, ev.dLdWinner[0], ev.dLdLoser[0])
    }
}
