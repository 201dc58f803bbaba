import Foundation

/// DSPO (losses-extra.md section 3) in both of its authors' forms, on Diffusion-DPO's logit
/// `z = -(beta/2) D_t` and the winner's policy-to-reference distance
/// `d_w = mean over C*H*W of (eps_theta(x_t^w) - eps_ref(x_t^w))^2`. Only the winner is
/// regressed; the loser enters through z. The weight `sigmoid(z)` carries gradient, as in the
/// authors' code, unless `detachWeight`.
///
/// - `sd15`: `g = beta (1 - sigmoid(z))`, per pair `L = e_theta(w) - g (e_theta(w) + d_w - e_ref(w)) + g^2 d_w`
///   (the mean over pixels of `(a - g b)^2`, `a = eps_theta - eps`, `b = eps_theta - eps_ref`).
/// - `sdxl`: `L = (1 - sigmoid(z))^2 d_w` when the batch's mean d_w is at least `threshold`
///   (0.1 in the authors' code), else `(1 - sigmoid(z))^2`.
public struct DSPOLoss: Sendable {
    public enum Form: String, CaseIterable, Sendable {
        case sd15, sdxl
    }

    public var form: Form
    public var beta: Double
    public var detachWeight: Bool
    public var threshold: Double

    public init(form: Form, beta: Double, detachWeight: Bool = false, threshold: Double = 0.1) {
        self.form = form
        self.beta = beta
        self.detachWeight = detachWeight
        self.threshold = threshold
    }

    /// The batch loss, z per pair, and per pair (of the mean) dL/de_theta(w), dL/de_theta(l)
    /// and dL/dd_w.
    public func evaluate(D: [Double], policyWinner: [Double], referenceWinner: [Double], distance: [Double])
        -> (loss: Double, z: [Double], dLdWinner: [Double], dLdLoser: [Double], dLdDistance: [Double]) {
        let n = D.count, p = Double(n)
        var loss = 0.0, z = [Double](repeating: 0, count: n), dW = z, dL = z, dDist = z
        let meanDistance = distance.reduce(0, +) / p
        for i in 0..<n {
            z[i] = -beta / 2 * D[i]
            let q = 1 / (1 + exp(-z[i])), dqdz = q * (1 - q)
            switch form {
            case .sd15:
                let g = beta * (1 - q), A = policyWinner[i] + distance[i] - referenceWinner[i]
                loss += policyWinner[i] - g * A + g * g * distance[i]
                // Through z: dL/dg dg/dz dz/de, dz/de_w = -beta/2, dz/de_l = +beta/2.
                let throughZ = detachWeight ? 0 : (-A + 2 * g * distance[i]) * (-beta * dqdz)
                dW[i] = ((1 - g) + throughZ * (-beta / 2)) / p
                dL[i] = throughZ * (beta / 2) / p
                dDist[i] = (g * g - g) / p
            case .sdxl:
                let weight = (1 - q) * (1 - q), scaled = meanDistance >= threshold
                let factor = scaled ? distance[i] : 1
                loss += weight * factor
                // d(1 - q)^2/dz = -2 q (1 - q)^2; times dz/de_w = -beta/2.
                let throughZ = detachWeight ? 0 : beta * q * weight * factor
                dW[i] = throughZ / p
                dL[i] = -throughZ / p
                dDist[i] = scaled ? weight / p : 0
            }
        }
        return (loss / p, z, dW, dL, dDist)
    }
}
