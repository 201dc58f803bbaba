import Foundation

/// MaPO (losses-extra.md section 2), reference-free, as its authors' code computes it:
/// `f(e) = u / (exp(u) - 1)` with `u = snr e` (a bounded, decreasing map of the error, 1 at 0),
/// the margin `m = T_m (f(e_theta(w)) - f(e_theta(l)))` with `T_m = mapo.margin_scale` (T),
/// and `L = mean e_theta(w) - beta mean log sigmoid(m)`. Per pair, before the 1/P of the mean:
/// `dL/de_theta(w) = 1 - beta T_m (1 - sigmoid(m)) f'(e_theta(w))`,
/// `dL/de_theta(l) = beta T_m (1 - sigmoid(m)) f'(e_theta(l))`.
public enum MaPOLoss {
    /// `f(e) = u / expm1(u)`, `u = snr e`; its series `1 - u/2 + u^2/12` near 0 (0/0 at e = 0).
    public static func score(_ e: Double, snr: Double) -> Double {
        let u = snr * e
        return abs(u) < 1e-6 ? 1 - u / 2 + u * u / 12 : u / expm1(u)
    }

    /// `f'(e) = snr (expm1(u) - u e^u) / expm1(u)^2`; its series `snr (-1/2 + u/6)` near 0.
    public static func scoreSlope(_ e: Double, snr: Double) -> Double {
        let u = snr * e
        if abs(u) < 1e-6 { return snr * (-0.5 + u / 6) }
        let m = expm1(u)
        return snr * (m - u * exp(u)) / (m * m)
    }

    /// The batch loss, each pair's margin m, and dL/de_theta(w), dL/de_theta(l) per pair (of
    /// the mean).
    public static func evaluate(winner: [Double], loser: [Double], beta: Double, snr: Double, marginScale: Double)
        -> (loss: Double, m: [Double], dLdWinner: [Double], dLdLoser: [Double]) {
        let p = Double(winner.count)
        var loss = 0.0, m = [Double](repeating: 0, count: winner.count), dW = m, dL = m
        for i in 0..<winner.count {
            m[i] = marginScale * (score(winner[i], snr: snr) - score(loser[i], snr: snr))
            loss += winner[i] + beta * PreferenceLoss.negativeLogSigmoid(m[i])
            let pull = beta * marginScale / (1 + exp(m[i]))  // beta T_m (1 - sigmoid(m))
            dW[i] = (1 - pull * scoreSlope(winner[i], snr: snr)) / p
            dL[i] = pull * scoreSlope(loser[i], snr: snr) / p
        }
        return (loss / p, m, dW, dL)
    }
}
