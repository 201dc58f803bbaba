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
    static let evalKeys = ["eval.images_per_prompt", "eval.steps", "eval.guidance", "eval.seed", "sampler", "sample.eta"]

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

    func signature(_ c: Config, _ keys: [String]) -> String { StageCache.signature(c, keys: keys) }
    func pairsSignature(_ annotator: String) throws -> String {
        let c = try config.overriding(["annotator": annotator])
        return [signature(c, StageCache.pretrainKeys), signature(c, StageCache.annotatorKeys), signature(c, Self.pairsKeys)].joined(separator: "\n")
    }
    func runConfig(_ run: Run) throws -> Config {
        var extra = ["annotator": run.annotator, "seed": String(run.seed)]
        if let r = run.tRange { extra["t_range"] = r }
        return try config.forMethod(run.method, beta: run.beta, lr: run.lr, extra: extra)
    }
    func trainSignature(_ run: Run) throws -> String {
        try pairsSignature(run.annotator) + "\n" + signature(try runConfig(run), StageCache.fineTuneKeys)
    }

    /// Whether `folder` holds a finished stage with this signature whose files are whole; throws
    /// if it holds another signature. A finished stage whose files were truncated or damaged
    /// since (`StageCache.incompleteness`) is not reused: said in a note, and the stage runs again.
    func cached(_ folder: String, _ sig: String, required: [String], quiet: Bool = false) throws -> Bool {
        guard let old = try? String(contentsOfFile: folder + "/signature.txt", encoding: .utf8) else { return false }
        guard old == sig else {
            throw TrainingError("\(folder) holds a stage made with other settings (" + StageCache.differences(old, sig).joined(separator: ", ")
                                + "); choose another out=, or delete that folder")
        }
        if let problem = StageCache.incompleteness(of: folder, required: required) {
            if !quiet { observer?.note("\(folder): \(problem); not reused, the stage runs again") }
            return false
        }
        return true
    }

    /// Marks a stage finished: the manifest of its files, then (last) its signature.
    func finish(_ folder: String, _ sig: String) throws {
        FileIO.removeStaleTemporaries(in: folder)
        try FileIO.writeAtomically(Array(try StageCache.manifest(of: folder).utf8), to: folder + "/" + StageCache.manifestFile)
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
        var sampled = false  // the first pairs stage to run samples the images for all of them
        for a in Set(runs.map(\.annotator)).sorted() {
            let c = (try? cached(out + "/pairs-\(a)", try pairsSignature(a), required: ["pairs.jsonl"], quiet: true)) ?? false
            let prompts = ShapesWorld.split().train.count + ShapesWorld.split().validation.count
            rows.append(("pairs-\(a)", c, sampled ? 5 : Double(prompts * config.int("pairs.samples_per_prompt")) * sampleCost))
            if !c { sampled = true }
        }
        let evalCost = Double(evalPrompts.count * config.int("eval.images_per_prompt")) * 0.09 * scale
            * Double(config.int("eval.steps")) / 25
        rows.append(("eval-base", false, evalCost))
        for r in runs {
            let c = (try? cached(out + "/train-\(r.name)", try trainSignature(r), required: ["model.safetensors"], quiet: true)) ?? false
            let perStep = r.method == "sft" ? 0.0027 : 0.0040
            rows.append(("train-\(r.name)", c, Double(config.int("steps") * config.int("batch")) * perStep * scale))
            rows.append(("eval-\(r.name)", false, evalCost))
        }
        return rows
    }

    /// Per model (base first): the distribution metrics against clean renders of the test
    /// prompts (Frechet distance of align features, Inception-Score analog, colour error).
    /// The pair images of each prompt split, sampled once for all annotators (see `pairs`).
    private var pairImages: [String: Sampling.Result] = [:]

    public private(set) var distribution: [(method: String, trainAnnotator: String, seed: Int?, report: DistributionReport)] = []
    /// Per model (base first): the first test prompts' first images, for the report's grids.
    public private(set) var samples = ReportSamples()

    /// The pairs stage for one annotator (`<out>/pairs-<annotator>`): `pairs.jsonl` from the
    /// training prompts and `heldout.jsonl` from the validation prompts; reused when made with the
    /// same settings (a folder from before held-out pairs existed gets them added), refused when
    /// made with others; returns the pairs file.
    @discardableResult
    public func pairs(annotator a: String, base: TextToImageModel, annotators: AnnotatorSet) throws -> String {
        let folder = out + "/pairs-\(a)", sig = try pairsSignature(a)
        let c = try config.overriding(["annotator": a])
        let wasCached = try cached(folder, sig, required: ["pairs.jsonl"])
        // The images do not depend on the annotator: sampled once per split for every annotator.
        func sampled(_ split: String, _ prompts: [ShapesPrompt]) -> Sampling.Result {
            if let done = pairImages[split] { return done }
            observer?.note("pairs: sampling \(config.int("pairs.samples_per_prompt")) images per \(split) prompt (shared by every annotator)")
            let result = PairsBuilder.sample(base, prompts: prompts, config: c)
            pairImages[split] = result
            return result
        }
        let split = ShapesWorld.split()
        if wasCached {
            observer?.note("pairs-\(a): reusing \(folder)")
        } else {
            let s = try PairsBuilder.build(base, annotator: annotators.named(a)!, prompts: split.train, config: c, folder: folder,
                                           sampled: sampled("training", split.train))
            observer?.note(String(format: "pairs-%@: %d pairs, mean gap %.3f, %.0f s", a, s.pairs, s.meanGap, s.seconds))
        }
        if !wasCached || !FileManager.default.fileExists(atPath: folder + "/heldout.jsonl") {
            let s = try PairsBuilder.build(base, annotator: annotators.named(a)!, prompts: split.validation, config: c,
                                           folder: folder, file: "heldout.jsonl", sampled: sampled("validation", split.validation))
            observer?.note(String(format: "pairs-%@: %d held-out pairs from the validation prompts, %.0f s", a, s.pairs, s.seconds))
        }
        if !wasCached { try finish(folder, sig) }
        return folder + "/pairs.jsonl"
    }

    /// One fine-tune (`<out>/train-<method>-<annotator>-s<seed>`) on its annotator's pairs, reused
    /// or refused like every stage; returns its folder.
    @discardableResult
    public func fineTune(_ r: Run, base: String, size: Int) throws -> String {
        let folder = out + "/train-\(r.name)", sig = try trainSignature(r)
        if try cached(folder, sig, required: ["model.safetensors"]) {
            observer?.note("train-\(r.name): reusing \(folder)")
            return folder
        }
        let pairsFile = out + "/pairs-\(r.annotator)/pairs.jsonl"
        let pairs = try PreferencePairs.load(pairsFile, size: size, skipBad: config.bool("data.skip_bad"))
        let heldout = try heldoutPairs(beside: pairsFile, size: size)
        try FineTuner(config: try runConfig(r), folder: folder, build: build, observer: observer ?? SilentObserver())
            .run(base: base, pairs: pairs, heldout: heldout)
        try finish(folder, sig)
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
    /// names the pairs file and its size; returns the folder.
    @discardableResult
    public func fineTune(pairsFile: String, base: String, size: Int) throws -> (folder: String, pairs: PreferencePairs) {
        let pairs = try PreferencePairs.load(pairsFile, size: size, skipBad: config.bool("data.skip_bad"))
        if !pairs.skipped.isEmpty { observer?.note("pairs: skipped \(pairs.skipped.count) bad lines of \(pairsFile)") }
        let loss = config.string("loss")
        let folder = out + "/train-\(loss)-\(pairs.annotator ?? config.string("annotator"))"
        let bytes = (try? FileManager.default.attributesOfItem(atPath: pairsFile)[.size] as? Int) ?? 0
        let sig = [signature(config, StageCache.pretrainKeys), "pairs = \(URL(fileURLWithPath: pairsFile).standardizedFileURL.path) (\(bytes) bytes)",
                   signature(try config.forMethod(loss), StageCache.fineTuneKeys)].joined(separator: "\n")
        if try cached(folder, sig, required: ["model.safetensors"]) {
            observer?.note("\(folder): reusing (same pairs file and settings)")
            return (folder, pairs)
        }
        let heldout = try heldoutPairs(beside: pairsFile, size: size)
        try FineTuner(config: config, folder: folder, build: build, observer: observer ?? SilentObserver())
            .run(base: base, pairs: pairs, heldout: heldout)
        try finish(folder, sig)
        return (folder, pairs)
    }

    /// `reuse = DIR`: copies DIR's base model, annotators, pairs and fine-tunes into this run
    /// folder when they were made with this run's settings and this folder has none yet (how the
    /// scripts start from the main job's stages without writing into its folder).
    func copyReusableStages() throws {
        let from = config.string("reuse"), fm = FileManager.default
        guard !from.isEmpty else { return }
        guard fm.fileExists(atPath: from) else { throw TrainingError("reuse = \(from): no such folder") }
        let silent = SilentObserver()
        var candidates: [(String, Bool)] = [
            ("pretrain", StageCache.recordedSignature(from + "/pretrain/model.safetensors") == signature(config, StageCache.pretrainKeys)),
            ("annotators", AnnotatorTrainer(config: config, folder: from + "/annotators", build: build, observer: silent).cachedClassifier != nil),
        ]
        for a in Set(runs.map(\.annotator)).sorted() {
            let old = try? String(contentsOfFile: from + "/pairs-\(a)/signature.txt", encoding: .utf8)
            candidates.append(("pairs-\(a)", old == (try pairsSignature(a))))
        }
        for r in runs {
            let old = try? String(contentsOfFile: from + "/train-\(r.name)/signature.txt", encoding: .utf8)
            candidates.append(("train-\(r.name)", old == (try trainSignature(r))))
        }
        for (stage, matches) in candidates where matches && !fm.fileExists(atPath: out + "/" + stage) {
            // Copied under a temporary name and renamed: a copy cut short by a kill is never
            // taken for the stage (its signature.txt may be copied before its model).
            try FileIO.copy(from + "/" + stage, to: out + "/" + stage)
            observer?.note("\(stage): copied from \(from)")
        }
    }

    /// Runs every stage not cached; returns the report rows.
    public func run() throws -> [ReportRow] {
        try FileIO.createFolder(out)
        FileIO.removeStaleTemporaries(in: out)
        try config.writeResolved(to: out)
        try copyReusableStages()
        let observer = self.observer ?? SilentObserver()
        let base = try Pretrainer(config: config, folder: out + "/pretrain", build: build, observer: observer).run()
        let annotatorTrainer = AnnotatorTrainer(config: config, folder: out + "/annotators", build: build, observer: observer)
        if annotatorTrainer.cachedClassifier == nil { try annotatorTrainer.run() }
        let annotators = try AnnotatorSet.load(folder: out + "/annotators")
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
