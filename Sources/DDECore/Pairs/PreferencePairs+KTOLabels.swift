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
