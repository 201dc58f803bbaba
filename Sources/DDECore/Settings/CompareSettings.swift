/// The main job: the `compare.*` keys, `reuse` and `dry_run`.
public struct CompareSettings: Sendable, Equatable {
    public var methods: [String]
    public var annotators: [String]
    public var seeds: [Int]
    /// Grids (empty: each method's own value).
    public var betas: [Double]
    public var lrs: [Double]
    public var tRanges: [String]
    /// A run folder whose finished stages are copied when made with the same settings.
    public var reuse: String
    public var dryRun: Bool

    init(_ config: Config) {
        methods = config.stringList("compare.methods")
        annotators = config.stringList("compare.annotators")
        seeds = config.intList("compare.seeds")
        betas = config.doubleList("compare.beta")
        lrs = config.doubleList("compare.lr")
        tRanges = config.stringList("compare.t_range")
        reuse = config.string("reuse")
        dryRun = config.bool("dry_run")
    }
}
