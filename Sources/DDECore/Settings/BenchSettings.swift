/// `dde-train bench`: the `bench.*` keys.
public struct BenchSettings: Sendable, Equatable {
    public var repeats: Int
    public var warmup: Int
    public var sampleImages: Int
    public var sampleRepeats: Int

    init(_ config: Config) {
        repeats = config.int("bench.repeats")
        warmup = config.int("bench.warmup")
        sampleImages = config.int("bench.sample_images")
        sampleRepeats = config.int("bench.sample_repeats")
    }
}
