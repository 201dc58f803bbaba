extension SoftLabel {
    /// SmPO's p for each pair, from its two annotator scores (winner, loser).
    public func probabilities(_ pairs: some Collection<PreferencePairs.Pair>) -> [Double] {
        pairs.map { probability(winner: $0.winnerScore, loser: $0.loserScore) }
    }
}
