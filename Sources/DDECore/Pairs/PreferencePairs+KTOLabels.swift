extension PreferencePairs {
    /// Diffusion-KTO's labels (`kto.labels`): per pair, whether its winner and its loser are
    /// desirable. An image is known by its pixels, so an image in several pairs is one image.
    public func ktoLabels(_ rule: KTOLoss.Labels) -> [(winner: Bool, loser: Bool)] {
        guard rule != .pair else { return pairs.map { _ in (true, false) } }
        var wins: [UInt64: Int] = [:], losses: [UInt64: Int] = [:]
        func key(_ image: [Float]) -> UInt64 {
            var d = ContentDigest()
            d.add(image)
            return d.value
        }
        let keys = pairs.map { (key($0.winner), key($0.loser)) }
        for (w, l) in keys {
            wins[w, default: 0] += 1
            losses[l, default: 0] += 1
        }
        return keys.map { w, l in
            (rule.desirable(wins: wins[w] ?? 0, losses: losses[w] ?? 0, asWinner: true),
             rule.desirable(wins: wins[l] ?? 0, losses: losses[l] ?? 0, asWinner: false))
        }
    }
}

/// Diffusion-KTO's class-balanced draws (`kto.positive_ratio = r` in (0, 1)): the authors weight
/// each image `N / count(class) * r` (desirable) or `* (1 - r)` (undesirable) in a sampler with
/// replacement (train.py's `make_weights_for_balanced_classes`), so that each drawn image is
/// desirable with probability r; here the draw is that two-stage choice, the class then an image
/// of it. Images are the pairs' winners and losers (one entry per place in a pair, as their CSV
/// lists an image per row), labelled by `kto.labels`.
public struct KTODraws {
    /// (pair index, the winner's place?) for every desirable and every undesirable image.
    public let desirable: [(pair: Int, winner: Bool)]
    public let undesirable: [(pair: Int, winner: Bool)]
    public let ratio: Double

    public init(labels: [(winner: Bool, loser: Bool)], ratio: Double) throws {
        var good: [(Int, Bool)] = [], bad: [(Int, Bool)] = []
        for (i, l) in labels.enumerated() {
            if l.winner { good.append((i, true)) } else { bad.append((i, true)) }
            if l.loser { good.append((i, false)) } else { bad.append((i, false)) }
        }
        guard !good.isEmpty, !bad.isEmpty else {
            throw TrainingError("kto.positive_ratio = \(ratio) draws desirable and undesirable images, but the pairs hold "
                                + (good.isEmpty ? "no desirable" : "no undesirable") + " image under kto.labels; set kto.positive_ratio = 0")
        }
        desirable = good
        undesirable = bad
        self.ratio = ratio
    }

    /// `count` images: each desirable with probability `ratio`, then uniform within its class.
    public func draw(_ count: Int, rng: inout RandomStream) -> [(pair: Int, winner: Bool, desirable: Bool)] {
        (0..<count).map { _ in
            let good = rng.uniformDouble() < ratio
            let pool = good ? desirable : undesirable
            let pick = pool[rng.int(below: pool.count)]
            return (pick.pair, pick.winner, good)
        }
    }
}
