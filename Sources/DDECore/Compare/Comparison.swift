import Foundation

/// The main job (testbed.md stage 6): the base model, the annotators, per annotator the pairs,
/// per method x annotator x seed a fine-tune, every model evaluated on the test prompts, and the
/// table. Each stage keeps its artifacts in its own folder with a `signature.txt` of the keys it
/// depends on, written last: a folder with the same signature is reused, one with another
/// signature is never overwritten (the run stops and says which keys differ).
public final class Comparison {
    public let config: Config
    public let build: BuildInfo
    weak var observer: StageObserver?

    public init(config: Config, build: BuildInfo, observer: StageObserver) {
        self.config = config
        self.build = build
        self.observer = observer
    }

    static let pairsKeys = ["annotator", "pairs.samples_per_prompt", "pairs.min_gap", "pairs.seed", "sampler", "sample.steps",
                            "sample.guidance", "sample.eta"]
    static let trainKeys = ["loss", "beta", "t_range", "dpo.shared_noise", "disc.gamma", "disc.steps", "disc.mode", "dde.kappa",
                            "dde.correction_scale", "dde.lambda", "dde.ema", "dde.record_buckets", "dde.ema_bias_correction",
                            "lr", "batch", "steps", "warmup_steps", "weight_decay", "adam_beta1", "adam_beta2", "adam_eps",
                            "grad_clip", "grad_accum", "seed"]
    static let evalKeys = ["eval.images_per_prompt", "eval.steps", "eval.guidance", "eval.seed", "sampler", "sample.eta"]

    /// One fine-tune of the plan.
    public struct Run: Sendable {
        public let method: String
        public let annotator: String
        public let seed: Int
        public init(method: String, annotator: String, seed: Int) {
            self.method = method
            self.annotator = annotator
            self.seed = seed
        }
        public var name: String { "\(method)-\(annotator)-s\(seed)" }
    }

    public var runs: [Run] {
        config.stringList("compare.methods").flatMap { m in
            config.stringList("compare.annotators").flatMap { a in config.intList("compare.seeds").map { Run(method: m, annotator: a, seed: $0) } }
        }
    }

    var out: String { config.outDirectory }

    func signature(_ c: Config, _ keys: [String]) -> String { StageCache.signature(c, keys: keys) }
    func pairsSignature(_ annotator: String) throws -> String {
        let c = try config.overriding(["annotator": annotator])
        return [signature(c, StageCache.pretrainKeys), signature(c, StageCache.annotatorKeys), signature(c, Self.pairsKeys)].joined(separator: "\n")
    }
    func runConfig(_ run: Run) throws -> Config {
        try config.overriding(["loss": run.method, "annotator": run.annotator, "seed": String(run.seed)])
    }
    func trainSignature(_ run: Run) throws -> String {
        try pairsSignature(run.annotator) + "\n" + signature(try runConfig(run), Self.trainKeys)
    }

    /// Whether `folder` holds a finished stage with this signature; throws if it holds another.
    func cached(_ folder: String, _ sig: String) throws -> Bool {
        guard let old = try? String(contentsOfFile: folder + "/signature.txt", encoding: .utf8) else { return false }
        if old == sig { return true }
        throw TrainingError("\(folder) holds a stage made with other settings (" + StageCache.differences(old, sig).joined(separator: ", ")
                            + "); choose another out=, or delete that folder")
    }

    func finish(_ folder: String, _ sig: String) throws {
        try FileIO.writeAtomically(Array(sig.utf8), to: folder + "/signature.txt")
    }

    /// The plan: every stage, whether it is cached, and a rough time from rates measured here
    /// ([32,64] U-Net at 16x16 on two cores), scaled by the model's width and image size.
    public func plan() throws -> [(stage: String, cached: Bool, seconds: Double)] {
        let ch = config.intList("block_out_channels"), s = Double(config.int("sample_size"))
        let scale = Double(ch.map { $0 * $0 }.reduce(0, +)) / Double(32 * 32 + 64 * 64) * (s * s) / 256
        var rows: [(String, Bool, Double)] = []
        let pre = StageCache.recordedSignature(out + "/pretrain/model.safetensors") == signature(config, StageCache.pretrainKeys)
        rows.append(("pretrain", pre, Double(config.int("pretrain.steps") * config.int("pretrain.batch")) * 0.0027 * scale))
        rows.append(("annotators", FileManager.default.fileExists(atPath: out + "/annotators/align.safetensors"),
                     Double(config.int("annotators.steps")) * 0.011))
        let sampleCost = 0.09 * scale * Double(config.int("sample.steps")) / 25
        for a in Set(runs.map(\.annotator)).sorted() {
            let c = (try? cached(out + "/pairs-\(a)", try pairsSignature(a))) ?? false
            rows.append(("pairs-\(a)", c, Double(ShapesWorld.split().train.count * config.int("pairs.samples_per_prompt")) * sampleCost))
        }
        let evalCost = Double(ShapesWorld.split().test.count * config.int("eval.images_per_prompt")) * 0.09 * scale
            * Double(config.int("eval.steps")) / 25
        rows.append(("eval-base", false, evalCost))
        for r in runs {
            let c = (try? cached(out + "/train-\(r.name)", try trainSignature(r))) ?? false
            let perStep = r.method == "sft" ? 0.0027 : 0.0040
            rows.append(("train-\(r.name)", c, Double(config.int("steps") * config.int("batch")) * perStep * scale))
            rows.append(("eval-\(r.name)", false, evalCost))
        }
        return rows
    }

    /// Per model (base first): the distribution metrics against clean renders of the test
    /// prompts (Frechet distance of align features, Inception-Score analog, colour error).
    public private(set) var distribution: [(method: String, trainAnnotator: String, seed: Int?, report: DistributionReport)] = []

    /// The pairs stage for one annotator (`<out>/pairs-<annotator>`): reused when made with the
    /// same settings, refused when made with others; returns the pairs file.
    @discardableResult
    public func pairs(annotator a: String, base: TextToImageModel, annotators: AnnotatorSet) throws -> String {
        let folder = out + "/pairs-\(a)", sig = try pairsSignature(a)
        if try cached(folder, sig) {
            observer?.note("pairs-\(a): reusing \(folder)")
        } else {
            observer?.note("pairs-\(a): sampling \(config.int("pairs.samples_per_prompt")) images per training prompt")
            let s = try PairsBuilder.build(base, annotator: annotators.named(a)!, prompts: ShapesWorld.split().train,
                                           config: try config.overriding(["annotator": a]), folder: folder)
            observer?.note(String(format: "pairs-%@: %d pairs, mean gap %.3f, %.0f s", a, s.pairs, s.meanGap, s.seconds))
            try finish(folder, sig)
        }
        return folder + "/pairs.jsonl"
    }

    /// One fine-tune (`<out>/train-<method>-<annotator>-s<seed>`) on its annotator's pairs, reused
    /// or refused like every stage; returns its folder.
    @discardableResult
    public func fineTune(_ r: Run, base: String, size: Int) throws -> String {
        let folder = out + "/train-\(r.name)", sig = try trainSignature(r)
        if try cached(folder, sig) {
            observer?.note("train-\(r.name): reusing \(folder)")
            return folder
        }
        let pairs = try PreferencePairs.load(out + "/pairs-\(r.annotator)/pairs.jsonl", size: size, skipBad: config.bool("data.skip_bad"))
        try FineTuner(config: try runConfig(r), folder: folder, build: build, observer: observer ?? SilentObserver())
            .run(base: base, pairs: pairs)
        try finish(folder, sig)
        return folder
    }

    /// Runs every stage not cached; returns the report rows.
    public func run() throws -> [ReportRow] {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try config.writeResolved(to: out)
        let observer = self.observer ?? SilentObserver()
        let base = try Pretrainer(config: config, folder: out + "/pretrain", build: build, observer: observer).run()
        let annotatorTrainer = AnnotatorTrainer(config: config, folder: out + "/annotators", build: build, observer: observer)
        if annotatorTrainer.cachedClassifier == nil { try annotatorTrainer.run() }
        let annotators = try AnnotatorSet.load(folder: out + "/annotators")
        let baseModel = try Checkpoint.loadModel(base).model
        let test = ShapesWorld.split().test
        observer.note("evaluating the base model on \(test.count) test prompts")
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
        var rows: [ReportRow] = []
        let resamples = config.int("eval.bootstrap"), evalSeed = UInt64(config.int("eval.seed"))
        for name in AnnotatorSet.names {
            let s = baseEval.summary(name, resamples: resamples, seed: evalSeed)
            rows.append(ReportRow(method: "base", trainAnnotator: "", evalAnnotator: name, seed: nil, mean: s.mean, low: s.low,
                                  high: s.high, comparison: nil))
        }
        for a in Set(runs.map(\.annotator)).sorted() {
            try pairs(annotator: a, base: baseModel, annotators: annotators)
        }
        for r in runs {
            let folder = try fineTune(r, base: base, size: baseModel.config.sampleSize)
            let tuned = try Checkpoint.loadModel(folder + "/model.safetensors").model
            observer.note("eval-\(r.name): \(test.count) test prompts x \(config.int("eval.images_per_prompt")) images")
            let e = ModelEvaluation.run(tuned, annotators: annotators, prompts: test, config: config)
            distribution.append((r.method, r.annotator, r.seed, try distributionReport(e)))
            for name in AnnotatorSet.names {
                let cmp = PairedComparison(tuned: e.scores[name]!, base: baseEval.scores[name]!, perPrompt: e.perPrompt,
                                           resamples: resamples, seed: evalSeed)
                rows.append(ReportRow(method: r.method, trainAnnotator: r.annotator, evalAnnotator: name, seed: r.seed,
                                      mean: cmp.mean, low: cmp.meanInterval.low, high: cmp.meanInterval.high, comparison: cmp))
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
    public let mean: Double
    public let low: Double
    public let high: Double
    public let comparison: PairedComparison?
}
