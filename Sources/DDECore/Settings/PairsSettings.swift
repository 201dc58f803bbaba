/// The `annotator` and `pairs.*` keys: which annotator labels the pairs and how they are chosen.
public struct PairsSettings: Sendable, Equatable {
    public var annotator: String
    public var samplesPerPrompt: Int
    public var minGap: Double
    /// Column j of every prompt starts from the noise of seed + j.
    public var seed: UInt64

    init(_ config: Config) {
        annotator = config.string("annotator")
        samplesPerPrompt = config.int("pairs.samples_per_prompt")
        minGap = config.double("pairs.min_gap")
        seed = UInt64(config.int("pairs.seed"))
    }
}
