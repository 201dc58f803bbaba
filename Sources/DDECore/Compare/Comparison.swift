import Foundation

/// The main job (testbed.md stage 6): the base model, the annotators, per annotator the pairs,
/// per method x annotator x seed a fine-tune, every model evaluated on the test prompts, and the
/// table. Each stage keeps its artifacts in its own folder (`StageFolder`) with the signature of
/// the keys and inputs it depends on (`StageSignature`), written last: a folder with the same
/// signature is reused, one with another signature is never overwritten (the run stops and says
/// which keys differ), a damaged one is made again.
public final class Comparison {
    public let config: Config
    public let build: BuildInfo
    weak var observer: StageObserver?

    public init(config: Config, build: BuildInfo, observer: StageObserver) {
        self.config = config
        self.build = build
        self.observer = observer
    }

    /// One fine-tune of the plan; `beta`, `lr` and `tRange` are set at a grid point of a sweep
    /// (`compare.beta`, `compare.lr`, `compare.t_range`), else the method's own values and the
    /// config's `t_range` apply (`Config.methodSettings`).
    public struct Run: Sendable {
        public let method: String
        public let annotator: String
        public let seed: Int
        public let beta: Double?
        public let lr: Double?
        public let tRange: String?
        public init(method: String, annotator: String, seed: Int, beta: Double? = nil, lr: Double? = nil, tRange: String? = nil) {
            self.method = method
            self.annotator = annotator
            self.seed = seed
            self.beta = beta
            self.lr = lr
            self.tRange = tRange
        }
        public var name: String {
            "\(method)-\(annotator)-s\(seed)" + (setting.isEmpty ? "" : "-" + setting.replacingOccurrences(of: " ", with: "-"))
        }
        /// The grid point, as in the sweep's table ("beta=500 lr=2e-05"), or "".
        public var setting: String {
            [beta.map { "beta=\(Comparison.short($0))" }, lr.map { "lr=\(Comparison.short($0))" }, tRange.map { "t_range=\($0)" }]
                .compactMap { $0 }.joined(separator: " ")
        }
        /// The method, then the grid point if any ("dde beta=250").
        public var methodLabel: String { setting.isEmpty ? method : method + " " + setting }
    }

    /// A number as short as it reads back (500, 2e-05).
    static func short(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
    }

    /// Every (method, annotator, seed), at every grid point when `compare.beta` / `compare.lr` are
    /// set (SFT has no beta, so it runs once per learning rate).
    public var runs: [Run] {
        let betas = config.doubleList("compare.beta"), lrs = config.doubleList("compare.lr"), ranges = config.stringList("compare.t_range")
        return config.stringList("compare.methods").flatMap { m in
            let betaGrid: [Double?] = betas.isEmpty || m == "sft" ? [nil] : betas.map { $0 }
            let lrGrid: [Double?] = lrs.isEmpty ? [nil] : lrs.map { $0 }
            let rangeGrid: [String?] = ranges.isEmpty ? [nil] : ranges.map { $0 }
            return config.stringList("compare.annotators").flatMap { a in
                rangeGrid.flatMap { r in betaGrid.flatMap { b in lrGrid.flatMap { lr in
                    config.intList("compare.seeds").map { Run(method: m, annotator: a, seed: $0, beta: b, lr: lr, tRange: r) }
                } } }
            }
        }
    }

    /// The prompts models are scored on: the test split, or the validation split when tuning.
    public var evalPrompts: [ShapesPrompt] {
        config.string("eval.prompts") == "validation" ? ShapesWorld.split().validation : ShapesWorld.split().test
    }

    var out: String { config.outDirectory }

    func runConfig(_ run: Run) throws -> Config {
        var extra = ["annotator": run.annotator, "seed": String(run.seed)]
        if let r = run.tRange { extra["t_range"] = r }
        return try config.forMethod(run.method, beta: run.beta, lr: run.lr, extra: extra)
    }

    /// The pairs stage's signature: its keys, the base model and the annotator that labels them.
    func pairsSignature(_ annotator: any Annotator, base: ContentDigest) throws -> StageSignature {
        StageSignature(.pairs, try config.overriding(["annotator": annotator.name]),
                       inputs: [("base", base), ("annotator", annotator.contentDigest)])
    }

    /// `reuse = DIR`: when this run folder has no `stage` yet and DIR holds it finished with the
    /// same signature, it is copied here (how the scripts start from the main job's stages
    /// without writing into its folder). Copied under a temporary name and renamed: a copy cut
    /// short by a kill is never taken for the stage.
    func adopt(_ stage: String, _ signature: StageSignature) throws {
        let from = config.string("reuse")
        guard !from.isEmpty, !FileManager.default.fileExists(atPath: out + "/" + stage) else { return }
        guard FileManager.default.fileExists(atPath: from) else { throw TrainingError("reuse = \(from): no such folder") }
        guard StageFolder(from + "/" + stage).state(for: signature) == .finished else { return }
        try FileIO.copy(from + "/" + stage, to: out + "/" + stage)
        observer?.note("\(stage): copied from \(from)")
    }

    /// The plan: every stage, whether it is cached, and a rough time from rates measured here
    /// ([32,64] U-Net at 16x16 on two cores), scaled by the model's width and image size. A
    /// stage's signature covers its inputs, so a stage counts as cached only when the stages it
    /// starts from are finished here.
    public func plan() throws -> [(stage: String, cached: Bool, seconds: Double)] {
        let ch = config.intList("block_out_channels"), s = Double(config.int("sample_size"))
        let scale = Double(ch.map { $0 * $0 }.reduce(0, +)) / Double(32 * 32 + 64 * 64) * (s * s) / 256
        var rows: [(String, Bool, Double)] = []
        let pre = pretrainFolder.state(for: StageSignature(.pretrain, config)) == .finished
        rows.append(("pretrain", pre, Double(config.int("pretrain.steps") * config.int("pretrain.batch")) * 0.0027 * scale))
        let ann = annotatorsFolder.state(for: StageSignature(.annotators, config)) == .finished
        rows.append(("annotators", ann, Double(config.int("annotators.steps")) * 0.011))
        let base = pre ? (try? Checkpoint.loadModel(pretrainFolder.path + "/model.safetensors"))?.model.contentDigest : nil
        let annotators = ann ? try? AnnotatorSet.load(folder: annotatorsFolder.path) : nil
        let sampleCost = 0.09 * scale * Double(config.int("sample.steps")) / 25
        var sampled = false  // the first pairs stage to run samples the images for all of them
        var pairsDone: Set<String> = []
        for a in Set(runs.map(\.annotator)).sorted() {
            var c = false
            if let base, let annotator = annotators?.named(a) {
                c = StageFolder(out + "/pairs-\(a)").state(for: try pairsSignature(annotator, base: base)) == .finished
            }
            let prompts = ShapesWorld.split().train.count + ShapesWorld.split().validation.count
            rows.append(("pairs-\(a)", c, sampled ? 5 : Double(prompts * config.int("pairs.samples_per_prompt")) * sampleCost))
            if c { pairsDone.insert(a) } else { sampled = true }
        }
        let evalCost = Double(evalPrompts.count * config.int("eval.images_per_prompt")) * 0.09 * scale
            * Double(config.int("eval.steps")) / 25
        rows.append(("eval-base", false, evalCost))
        var pairDigests: [String: ContentDigest] = [:]
        for r in runs {
            var c = false
            if let base, pairsDone.contains(r.annotator) {
                if pairDigests[r.annotator] == nil {
                    pairDigests[r.annotator] = try PreferencePairs.load(out + "/pairs-\(r.annotator)/pairs.jsonl", size: config.int("sample_size"),
                                                                       skipBad: config.bool("data.skip_bad")).contentDigest
                }
                let signature = FineTuner.signature(try runConfig(r), base: base, pairs: pairDigests[r.annotator]!)
                c = StageFolder(out + "/train-\(r.name)").state(for: signature) == .finished
            }
            let perStep = r.method == "sft" ? 0.0027 : 0.0040
            rows.append(("train-\(r.name)", c, Double(config.int("steps") * config.int("batch")) * perStep * scale))
            rows.append(("eval-\(r.name)", false, evalCost))
        }
        return rows
    }

    var pretrainFolder: StageFolder { StageFolder(out + "/pretrain", primary: "model.safetensors") }
    var annotatorsFolder: StageFolder { StageFolder(out + "/annotators", primary: "align.safetensors") }

    /// Per model (base first): the distribution metrics against clean renders of the test
    /// prompts (Frechet distance of align features, Inception-Score analog, colour error).
    /// The pair images of each prompt split, sampled once for all annotators (see `pairs`).
    private var pairImages: [String: Sampling.Result] = [:]

    public private(set) var distribution: [(method: String, trainAnnotator: String, seed: Int?, report: DistributionReport)] = []
    /// Per model (base first): the first test prompts' first images, for the report's grids.
    public private(set) var samples = ReportSamples()

    /// The pairs stage for one annotator (`<out>/pairs-<annotator>`): `pairs.jsonl` from the
    /// training prompts and `heldout.jsonl` from the validation prompts; reused when finished
    /// with the same settings, base model and annotator, refused when made with others; returns
    /// the pairs file.
    @discardableResult
    public func pairs(annotator a: String, base: TextToImageModel, annotators: AnnotatorSet) throws -> String {
        guard let annotator = annotators.named(a) else { throw TrainingError("no annotator '\(a)' (\(AnnotatorSet.names.joined(separator: ", ")))") }
        let folder = out + "/pairs-\(a)", signature = try pairsSignature(annotator, base: base.contentDigest)
        try adopt("pairs-\(a)", signature)
        let frame = StageFrame("pairs-\(a)", folder: StageFolder(folder), signature: signature)
        if try frame.isFinished(observer: observer) { return folder + "/pairs.jsonl" }
        let c = try config.overriding(["annotator": a])
        // The images do not depend on the annotator: sampled once per split for every annotator.
        func sampled(_ split: String, _ prompts: [ShapesPrompt]) -> Sampling.Result {
            if let done = pairImages[split] { return done }
            observer?.note("pairs: sampling \(config.int("pairs.samples_per_prompt")) images per \(split) prompt (shared by every annotator)")
            let result = PairsBuilder.sample(base, prompts: prompts, config: c)
            pairImages[split] = result
            return result
        }
        let split = ShapesWorld.split()
        let s = try PairsBuilder.build(base, annotator: annotator, prompts: split.train, config: c, folder: folder,
                                       sampled: sampled("training", split.train))
        observer?.note(String(format: "pairs-%@: %d pairs, mean gap %.3f, %.0f s", a, s.pairs, s.meanGap, s.seconds))
        let h = try PairsBuilder.build(base, annotator: annotator, prompts: split.validation, config: c,
                                       folder: folder, file: "heldout.jsonl", sampled: sampled("validation", split.validation))
        observer?.note(String(format: "pairs-%@: %d held-out pairs from the validation prompts, %.0f s", a, h.pairs, h.seconds))
        try frame.finish()
        return folder + "/pairs.jsonl"
    }

    /// One fine-tune (`<out>/train-<method>-<annotator>-s<seed>`) on its annotator's pairs, reused
    /// or refused like every stage (`FineTuner`); returns its folder.
    @discardableResult
    public func fineTune(_ r: Run, base: String, size: Int) throws -> String {
        let folder = out + "/train-\(r.name)", config = try runConfig(r)
        let pairsFile = out + "/pairs-\(r.annotator)/pairs.jsonl"
        let pairs = try PreferencePairs.load(pairsFile, size: size, skipBad: config.bool("data.skip_bad"))
        let baseDigest = try Checkpoint.loadModel(base).model.contentDigest
        try adopt("train-\(r.name)", FineTuner.signature(config, base: baseDigest, pairs: pairs.contentDigest))
        try FineTuner(config: config, folder: folder, build: build, observer: observer ?? SilentObserver())
            .run(base: base, pairs: pairs, heldout: try heldoutPairs(beside: pairsFile, size: size))
        return folder
    }

    /// The held-out pairs (`heldout.jsonl`) in the folder of `pairsFile`, if there are any.
    func heldoutPairs(beside pairsFile: String, size: Int) throws -> PreferencePairs? {
        let file = URL(fileURLWithPath: pairsFile).deletingLastPathComponent().appendingPathComponent("heldout.jsonl").path
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return try PreferencePairs.load(file, size: size, skipBad: config.bool("data.skip_bad"))
    }

    /// A fine-tune on a user's pairs (`pairs = PATH`, with `heldout.jsonl` beside it used when
    /// present) in `<out>/train-<loss>-<annotator>`, guarded like every stage by a signature that
    /// covers the content of the base model and the pairs; returns the folder.
    @discardableResult
    public func fineTune(pairsFile: String, base: String, size: Int) throws -> (folder: String, pairs: PreferencePairs) {
        let pairs = try PreferencePairs.load(pairsFile, size: size, skipBad: config.bool("data.skip_bad"))
        if !pairs.skipped.isEmpty { observer?.note("pairs: skipped \(pairs.skipped.count) bad lines of \(pairsFile)") }
        let folder = out + "/train-\(config.string("loss"))-\(pairs.annotator ?? config.string("annotator"))"
        try FineTuner(config: config, folder: folder, build: build, observer: observer ?? SilentObserver())
            .run(base: base, pairs: pairs, heldout: try heldoutPairs(beside: pairsFile, size: size))
        return (folder, pairs)
    }

    /// Runs every stage not cached; returns the report rows.
    public func run() throws -> [ReportRow] {
        try FileIO.createFolder(out)
        FileIO.removeStaleTemporaries(in: out)
        try config.writeResolved(to: out)
        let observer = self.observer ?? SilentObserver()
        try adopt("pretrain", StageSignature(.pretrain, config))
        let base = try Pretrainer(config: config, folder: pretrainFolder.path, build: build, observer: observer).run()
        try adopt("annotators", StageSignature(.annotators, config))
        try AnnotatorTrainer(config: config, folder: annotatorsFolder.path, build: build, observer: observer).run()
        let annotators = try AnnotatorSet.load(folder: annotatorsFolder.path)
        let baseModel = try Checkpoint.loadModel(base).model
        baseModel.store.freeze()  // only sampled from: its transformed weights are kept
        let test = evalPrompts
        observer.note("evaluating the base model on \(test.count) \(config.string("eval.prompts")) prompts")
        let baseEval = ModelEvaluation.run(baseModel, annotators: annotators, prompts: test, config: config)
        let size = baseModel.config.sampleSize
        let reference = DistributionMetrics.reference(prompts: test, size: size, classifier: annotators.align.classifier,
                                                      seed: UInt64(config.int("eval.seed")))
        func distributionReport(_ e: ModelEvaluation) throws -> DistributionReport {
            let prompts = e.prompts.flatMap { [ShapesPrompt](repeating: $0, count: e.perPrompt) }
            return try DistributionMetrics.report(images: e.images.flatMap { $0 }, prompts: prompts, size: size,
                                                  classifier: annotators.align.classifier, reference: reference)
        }
        distribution = [("base", "", nil, try distributionReport(baseEval))]
        samples.add("base", baseEval)
        var rows: [ReportRow] = []
        let resamples = config.int("eval.bootstrap"), evalSeed = UInt64(config.int("eval.seed"))
        for name in AnnotatorSet.names {
            let s = baseEval.summary(name, resamples: resamples, seed: evalSeed)
            rows.append(ReportRow(method: "base", trainAnnotator: "", evalAnnotator: name, seed: nil, setting: "", mean: s.mean,
                                  low: s.low, high: s.high, comparison: nil))
        }
        for a in Set(runs.map(\.annotator)).sorted() {
            try Interruption.check(before: "pairs-\(a)")
            try pairs(annotator: a, base: baseModel, annotators: annotators)
        }
        for r in runs {
            try Interruption.check(before: "train-\(r.name)")
            let folder = try fineTune(r, base: base, size: baseModel.config.sampleSize)
            try Interruption.check(before: "eval-\(r.name)")
            let tuned = try Checkpoint.loadModel(folder + "/model.safetensors").model
            tuned.store.freeze()
            observer.note("eval-\(r.name): \(test.count) \(config.string("eval.prompts")) prompts x \(config.int("eval.images_per_prompt")) images")
            let e = ModelEvaluation.run(tuned, annotators: annotators, prompts: test, config: config)
            distribution.append((r.methodLabel, r.annotator, r.seed, try distributionReport(e)))
            samples.add(r.name, e)
            for name in AnnotatorSet.names {
                let cmp = PairedComparison(tuned: e.scores[name]!, base: baseEval.scores[name]!, perPrompt: e.perPrompt,
                                           resamples: resamples, seed: evalSeed)
                rows.append(ReportRow(method: r.method, trainAnnotator: r.annotator, evalAnnotator: name, seed: r.seed,
                                      setting: r.setting, mean: cmp.mean, low: cmp.meanInterval.low, high: cmp.meanInterval.high, comparison: cmp))
            }
        }
        return rows
    }
}

/// One (model, eval annotator) result.
public struct ReportRow: Sendable {
    public let method: String
    public let trainAnnotator: String
    public let evalAnnotator: String
    public let seed: Int?
    /// The sweep's grid point ("beta=500 lr=2e-05"), or "".
    public let setting: String
    public let mean: Double
    public let low: Double
    public let high: Double
    public let comparison: PairedComparison?
}
