import Foundation

/// The diffusers DPO script's two variants of Diffusion-DPO on the same difference D_t
/// (losses-extra.md section 6, PR #6788), in that script's convention: its `beta_dpo` (here
/// `hinge.beta`, `ipo.beta`) multiplies D itself, without the 1/2 of losses.md's uniform loss.
///
/// | loss  | L                        | dL/dD                               |
/// | ---   | ---                      | ---                                 |
/// | hinge | `max(0, 1 + beta D)`     | `beta` while `1 + beta D > 0`, else 0 |
/// | ipo   | `(D + 1/(2 beta))^2`     | `2 (D + 1/(2 beta))`                |
///
/// IPO aims at the fixed margin `D = -1/(2 beta)` and pushes back when it is exceeded; hinge
/// stops pulling once `D <= -1/beta`.
public enum DPOVariant {
    /// The hinge loss of one pair and its derivative in D.
    public static func hinge(D: Double, beta: Double) -> (loss: Double, dLdD: Double) {
        let margin = 1 + beta * D
        return margin > 0 ? (margin, beta) : (0, 0)
    }

    /// The IPO loss of one pair and its derivative in D.
    public static func ipo(D: Double, beta: Double) -> (loss: Double, dLdD: Double) {
        let gap = D + 1 / (2 * beta)
        return (gap * gap, 2 * gap)
    }
}

/// SmPO's soft label (losses-extra.md section 7): the pair's two annotator scores, each
/// min-max normalised (`n = (s - lo) / (hi - lo)`), give `p = sigmoid(n_w - n_l)` in [0.5, 1)
/// when the winner scores higher, and the pair's beta is scaled by `scale x (2p - 1)`: a
/// near-tie nearly switches the pair off.
public struct SoftLabel: Sendable {
    public var scale: Double
    public var scoreMin: Double
    public var scoreMax: Double

    public init(scale: Double, scoreMin: Double, scoreMax: Double) {
        self.scale = scale
        self.scoreMin = scoreMin
        self.scoreMax = scoreMax
    }

    /// p for a pair whose winner scored `winner` and loser `loser`.
    public func probability(winner: Double, loser: Double) -> Double {
        let span = scoreMax - scoreMin
        let nw = (winner - scoreMin) / span, nl = (loser - scoreMin) / span
        return 1 / (1 + exp(-(nw - nl)))
    }

    /// The factor `scale x (2p - 1)` that multiplies the pair's beta.
    public func betaFactor(p: Double) -> Double { scale * (2 * p - 1) }
}
