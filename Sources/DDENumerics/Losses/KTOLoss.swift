import Foundation

/// Diffusion-KTO (losses-extra.md section 1), as its authors' code computes it with its default
/// options: per image i, `g_i = e_ref(i) - e_theta(i)`; the reference point
/// `kl = sg(max(0, mean over the batch of g))` (every image, both labels); `s_i = +1` for a
/// desirable image, `-1` for an undesirable one; `u_i = s_i beta (g_i - kl)`;
/// `L = mean over the batch of lambda_i (1 - sigmoid(u_i))` with `lambda_i = lambda_D` or
/// `lambda_U`. Gradient flows only through each image's own `e_theta(i)`:
/// `dL_i/de_theta(i) = lambda_i s_i beta sigmoid(u_i) (1 - sigmoid(u_i))`, divided by the batch's
/// image count for the mean.
public enum KTOLoss {
    /// Which images are desirable (`kto.labels`): `pair` makes every winner desirable and every
    /// loser undesirable (the project's reading); the aggregate rules look at each image over the
    /// whole pair set, as the authors' preprocessing did: an image only ever chosen is
    /// desirable, only ever rejected undesirable, and one both chosen and rejected is desirable
    /// (`aggregate_wi_l`, the authors' default policy) or undesirable (`aggregate_w_il`).
    public enum Labels: String, CaseIterable, Sendable {
        case pair
        case aggregateWinnersAndIntersections = "aggregate_wi_l"
        case aggregateWinnersOnly = "aggregate_w_il"

        /// Whether an image chosen `wins` times and rejected `losses` times is desirable.
        public func desirable(wins: Int, losses: Int, asWinner: Bool) -> Bool {
            switch self {
            case .pair: asWinner
            case .aggregateWinnersAndIntersections: wins > 0
            case .aggregateWinnersOnly: losses == 0
            }
        }
    }

    public struct Item: Sendable {
        public var policy: Double
        public var reference: Double
        public var desirable: Bool
        public init(policy: Double, reference: Double, desirable: Bool) {
            self.policy = policy
            self.reference = reference
            self.desirable = desirable
        }
    }

    /// The detached, clamped batch reference point `max(0, mean of e_ref - e_theta)`.
    public static func referencePoint(_ items: [Item]) -> Double {
        guard !items.isEmpty else { return 0 }
        return max(0, items.reduce(0) { $0 + ($1.reference - $1.policy) } / Double(items.count))
    }

    /// The batch mean loss, each image's u, and dL/de_theta per image (of the mean).
    public static func evaluate(_ items: [Item], beta: Double, lambdaDesirable: Double, lambdaUndesirable: Double,
                                referencePoint kl: Double) -> (loss: Double, u: [Double], dLde: [Double]) {
        let n = Double(items.count)
        var loss = 0.0, u = [Double](repeating: 0, count: items.count), dLde = u
        for (i, item) in items.enumerated() {
            let sign = item.desirable ? 1.0 : -1.0
            let lambda = item.desirable ? lambdaDesirable : lambdaUndesirable
            u[i] = sign * beta * ((item.reference - item.policy) - kl)
            let s = 1 / (1 + exp(-u[i]))
            loss += lambda * (1 - s)
            dLde[i] = lambda * sign * beta * s * (1 - s) / n
        }
        return (loss / n, u, dLde)
    }
}
