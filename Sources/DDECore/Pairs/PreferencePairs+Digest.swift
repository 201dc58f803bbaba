extension PreferencePairs {
    /// What a fine-tune trains on: every pair's caption and both images, in order (the scores
    /// and skipped lines are not used, so they are not in it).
    public var contentDigest: ContentDigest {
        var d = ContentDigest()
        for pair in pairs {
            d.add(pair.caption)
            d.add(pair.winner)
            d.add(pair.loser)
        }
        return d
    }
}
