// Compare: the main job. `Comparison` runs every stage in order (base model, annotators, pairs per
// annotator, a fine-tune per method x annotator x seed `Run`), reusing finished stage folders, then
// evaluates every model (`MainJobEvaluation`) into `ReportRow`s, `ReportSamples` and a `ScoreTable`
// of every score, from which `VersusRow` sets each method against each other; `StageTimes` keeps
// the seconds per stage, and `Comparison+Plan` estimates the time from bench rates for `dry_run`.
// Builds on Train, Annotators, Pairs, Eval, Bench and Stages; Report sits above it.

import Foundation

/// The main job (testbed.md stage 6): the base model, the annotators, per annotator the pairs,
/// per method x annotator x seed a fine-tune, every model evaluated on the test prompts, and the
/// table. Each stage keeps its artifacts in its own folder (`StageFolder`, paths from
/// `RunLayout`) with the signature of the keys and inputs it depends on (`StageSignature`),
/// written last: a folder with the same signature is reused, one with another signature is
/// never overwritten (the run stops and says which keys differ), a damaged one is made again.
///
/// Split by concern: the runs (`Comparison+Run`), the plan and its time estimate
/// (`Comparison+Plan`), the stages (here), the evaluation and report rows (`MainJobEvaluation`).
public final class Comparison {
    public let settings: RunSettings
    /// The context every model of the run computes in.
    public let workspace: Workspace
    public let build: BuildInfo
    public let layout: RunLayout
    weak var observer: StageObserver?

    public init(settings: RunSettings, workspace: Workspace, build: BuildInfo, observer: StageObserver) {
        self.settings = settings
        self.workspace = workspace
        self.build = build
        self.observer = observer
        layout = RunLayout(out: settings.out)
    }

    /// Every (method, annotator, seed), at every grid point when `compare.beta` / `compare.lr` are
    /// set (SFT has no beta, so it runs once per learning rate).
    public var runs: [Run] {
        let c = settings.compare
        return c.methods.flatMap { m in
            let betaGrid: [Double?] = c.betas.isEmpty || m == "sft" ? [nil] : c.betas.map { $0 }
            let lrGrid: [Double?] = c.lrs.isEmpty ? [nil] : c.lrs.map { $0 }
            let rangeGrid: [String?] = c.tRanges.isEmpty ? [nil] : c.tRanges.map { $0 }
            return c.annotators.flatMap { a in
                rangeGrid.flatMap { r in betaGrid.flatMap { b in lrGrid.flatMap { lr in
                    c.seeds.map { Run(method: m, annotator: a, seed: $0, beta: b, lr: lr, tRange: r) }
                } } }
            }
        }
    }

    /// The annotators whose pairs the runs train on, sorted.
    var pairAnnotators: [String] { Set(runs.map(\.annotator)).sorted() }

    /// The run's captions (`RunPrompts`: the world's, `prompts = FILE`'s or a data folder's), read once.
    public func prompts() throws -> RunPrompts {
        if let resolvedPrompts { return resolvedPrompts }
        let prompts = try RunPrompts.resolve(settings.data)
        resolvedPrompts = prompts
        return prompts
    }

    private var resolvedPrompts: RunPrompts?

    /// The prompts models are scored on: the test split, or the validation split when tuning.
    public func evalPrompts() throws -> [Caption] { try prompts().evaluated(settings.eval.prompts) }

    /// Every pairs annotator can read the captions it labels, and there are prompts to
    /// evaluate: checked before the first stage, so a run that would stop there starts no work.
    func checkPrompts() throws {
        let prompts = try prompts()
        guard !prompts.train.isEmpty else { throw DataError("\(prompts.source) gives no training prompts (\(prompts.splitRule))") }
        for a in pairAnnotators { try AnnotatorSet.check(a, canJudge: prompts.train + prompts.validation) }
        if settings.annotators.external.isEmpty, let outside = Caption.firstOutsideShapesWorld(try evalPrompts()) {
            throw AnnotatorError("\(outside.place): '\(outside.text.excerpt)' is not a shapes-world caption, the only kind the built-in "
                                 + "annotators judge, so no annotator could score the evaluation; define one with annotator.NAME = COMMAND "
                                 + "(README, Your own scorer)")
        }
    }

    /// The settings of one fine-tune: its method's beta and learning rate (or the grid point's),
    /// its annotator, seed and segment.
    func runSettings(_ run: Run) throws -> RunSettings {
        var extra = ["annotator": run.annotator, "seed": String(run.seed)]
        if let r = run.tRange { extra["t_range"] = r }
        return try settings.forMethod(run.method, beta: run.beta, lr: run.lr, extra: extra)
    }

    /// The pairs stage's signature: its keys, the base model, the annotator that labels them and,
    /// unless they are the world's, the captions.
    func pairsSignature(_ annotator: any Annotator, base: ContentDigest) throws -> StageSignature {
        StageSignature(.pairs, try settings.config.overriding(["annotator": annotator.name]),
                       inputs: [("base", base), ("annotator", annotator.contentDigest)] + (try prompts().contentDigest.map { [("prompts", $0)] } ?? []))
    }

    var pretrainFolder: StageFolder { StageFolder(layout.pretrain, primary: "model.safetensors") }
    var annotatorsFolder: StageFolder { StageFolder(layout.annotators, primary: "align.safetensors") }

    /// `reuse = DIR`: when this run folder has no `folder` yet and DIR holds it finished with the
    /// same signature, it is copied here (how the scripts start from the main job's stages
    /// without writing into its folder). Copied under a temporary name and renamed: a copy cut
    /// short by a kill is never taken for the stage.
    func adopt(_ folder: String, _ signature: StageSignature) throws {
        guard let source = reuseSource(folder) else { return }
        let from = settings.compare.reuse
        guard FileManager.default.fileExists(atPath: from) else { throw TrainingError("reuse = \(from): no such folder") }
        guard StageFolder(source).state(for: signature) == .finished else { return }
        try FileIO.copy(source, to: folder)
        observer?.note("\(layout.stageName(folder)): copied from \(from)")
    }

    /// The same stage in `reuse`'s folder, when `reuse` is set and this run has no `folder` yet:
    /// where `adopt` copies from (and the plan looks).
    func reuseSource(_ folder: String) -> String? {
        let from = settings.compare.reuse
        guard !from.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return nil }
        return RunLayout(out: from).file(layout.stageName(folder))
    }

    /// The pair images of each prompt split, sampled once for all annotators (see `pairs`).
    private var pairImages: [String: Sampling.Result] = [:]

    /// The pairs stage for one annotator (`<out>/pairs-<annotator>`): `pairs.jsonl` from the
    /// training prompts and `heldout.jsonl` from the validation prompts; reused when finished
    /// with the same settings, base model and annotator, refused when made with others; returns
    /// the pairs file.
    @discardableResult
    public func pairs(annotator a: String, base: TextToImageModel, annotators: AnnotatorSet) throws -> String {
        let prompts = try prompts()
        let annotator = try annotators.judging(a, prompts.train + prompts.validation)
        let folder = layout.pairs(a), signature = try pairsSignature(annotator, base: base.contentDigest)
        try adopt(folder, signature)
        let frame = StageFrame("pairs-\(a)", folder: StageFolder(folder), signature: signature)
        if try frame.isFinished(observer: observer) { return layout.pairsFile(a) }
        let s = try settings.overriding(["annotator": a])
        // The images do not depend on the annotator: sampled once per split for every annotator.
        func sampled(_ split: String, _ prompts: [Caption]) -> Sampling.Result {
            if let done = pairImages[split] { return done }
            observer?.note("pairs: sampling \(s.pairs.samplesPerPrompt) images per \(split) prompt (shared by every annotator)")
            let result = PairsBuilder.sample(base, prompts: prompts, settings: s)
            pairImages[split] = result
            return result
        }
        if let external = annotator as? ExternalAnnotator {
            observer?.note("pairs-\(a): scoring \((prompts.train.count + prompts.validation.count) * s.pairs.samplesPerPrompt) images by running '\(external.command.excerpt) FOLDER'")
        }
        let train = try PairsBuilder.build(base, annotator: annotator, prompts: prompts.train, settings: s, folder: folder,
                                           sampled: sampled("training", prompts.train))
        observer?.note(String(format: "pairs-%@: %d pairs, mean gap %.3f, %.0f s", a, train.pairs, train.meanGap, train.seconds))
        let held = try PairsBuilder.build(base, annotator: annotator, prompts: prompts.validation, settings: s,
                                          folder: folder, file: "heldout.jsonl", sampled: sampled("validation", prompts.validation))
        observer?.note(String(format: "pairs-%@: %d held-out pairs from the validation prompts, %.0f s", a, held.pairs, held.seconds))
        try frame.finish()
        return layout.pairsFile(a)
    }

    /// One fine-tune (`<out>/train-<method>-<annotator>-s<seed>`) on its annotator's pairs, reused
    /// or refused like every stage (`FineTuner`); returns its folder.
    @discardableResult
    public func fineTune(_ r: Run, base: String, size: Int) throws -> String {
        let folder = layout.train(r.name), settings = try runSettings(r)
        let pairsFile = layout.pairsFile(r.annotator)
        let pairs = try PreferencePairs.load(pairsFile, size: size, skipBad: settings.data.skipBad)
        try adopt(folder, FineTuner.signature(settings, base: try baseDigest(base), pairs: pairs.contentDigest))
        try FineTuner(settings: settings, workspace: workspace, folder: folder, build: build, observer: observer ?? SilentObserver(),
                      frozen: frozenErrors)
            .run(base: base, pairs: pairs, heldout: try heldoutPairs(beside: pairsFile, size: size))
        return folder
    }

    /// The content digest of the base model at `path`, loaded once per run (every fine-tune's
    /// signature names it).
    func baseDigest(_ path: String) throws -> ContentDigest {
        if let known = baseDigests[path] { return known }
        let digest = try Checkpoint.loadModel(path, workspace: workspace).model.contentDigest
        baseDigests[path] = digest
        return digest
    }

    private var baseDigests: [String: ContentDigest] = [:]

    /// The frozen reference's errors on the steps' and diagnostics' batches, shared by every
    /// fine-tune of the run: Uniform and DDE of one annotator and seed draw the same batches, and
    /// every fine-tune of a seed the same diagnostic ones, so the reference's forward pass on each
    /// runs once (`FrozenErrors`).
    public let frozenErrors = FrozenErrors()

    /// The held-out pairs (`heldout.jsonl`) in the folder of `pairsFile`, if there are any.
    func heldoutPairs(beside pairsFile: String, size: Int) throws -> PreferencePairs? {
        let file = URL(fileURLWithPath: pairsFile).deletingLastPathComponent().appendingPathComponent("heldout.jsonl").path
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return try PreferencePairs.load(file, size: size, skipBad: settings.data.skipBad)
    }

    /// A fine-tune on a user's pairs (`pairs = PATH`, with `heldout.jsonl` beside it used when
    /// present) in `<out>/train-<loss>-<annotator>`, guarded like every stage by a signature that
    /// covers the content of the base model and the pairs; returns the folder.
    @discardableResult
    public func fineTune(pairsFile: String, base: String, size: Int) throws -> (folder: String, pairs: PreferencePairs) {
        let pairs = try PreferencePairs.load(pairsFile, size: size, skipBad: settings.data.skipBad)
        observer?.note("pairs: \(pairs.pairs.count) pairs from \(pairsFile)"
                       + (pairs.ties > 0 ? ", \(pairs.ties) ties (label_0 = 0.5) left out as the diffusers DPO script does" : "")
                       + (pairs.skipped.isEmpty ? "" : ", \(pairs.skipped.count) bad lines skipped (data.skip_bad)"))
        let folder = layout.train("\(settings.fineTune.loss.kind.rawValue)-\(pairs.annotator ?? settings.pairs.annotator)")
        try FineTuner(settings: settings, workspace: workspace, folder: folder, build: build, observer: observer ?? SilentObserver())
            .run(base: base, pairs: pairs, heldout: try heldoutPairs(beside: pairsFile, size: size))
        return (folder, pairs)
    }

    /// Per model (base first): the distribution metrics against clean renders of the test prompts.
    public private(set) var distribution: [(method: String, trainAnnotator: String, seed: Int?, report: DistributionReport)] = []
    /// Per model (base first): the first test prompts' first images, for the report's grids.
    public private(set) var samples = ReportSamples()
    /// Every model's scores, after `run()`.
    public private(set) var scores: ScoreTable?

    /// Every method against every other (`report-versus.csv`), after `run()`.
    public private(set) var versus: [VersusRow] = []

    /// Runs every stage not cached; returns the report rows.
    public func run() throws -> [ReportRow] {
        try FileIO.createFolder(layout.out)
        FileIO.removeStaleTemporaries(in: layout.out)
        try settings.config.writeResolved(to: layout.out)
        let observer = self.observer ?? SilentObserver()
        try checkPrompts()
        if let p = resolvedPrompts, !p.isWorld { observer.note("prompts: \(p.summary) (\(p.splitRule))") }
        let evaluated = try evalPrompts().count
        if settings.eval.prompts == .all {
            observer.note("eval.prompts = all: models are scored on every caption, the \(try prompts().train.count) they were tuned on included")
        }
        if evaluated < 10 {
            observer.note("only \(evaluated) \(settings.eval.prompts.phrase): the 95% intervals resample prompts and say little below about 10")
        }
        let times = StageTimes(path: layout.file("timings.csv"))
        let base = try times.measure("pretrain") {
            try adopt(layout.pretrain, try Pretrainer.signature(settings))
            return try Pretrainer(settings: settings, workspace: workspace, folder: layout.pretrain, build: build, observer: observer).run()
        }
        let annotators = try times.measure("annotators") {
            try adopt(layout.annotators, StageSignature(.annotators, settings.config))
            try AnnotatorTrainer(settings: settings, workspace: workspace, folder: layout.annotators, build: build, observer: observer).run()
            return try AnnotatorSet.load(folder: layout.annotators, workspace: workspace, external: settings.annotators.external)
        }
        let baseModel = try Checkpoint.loadModel(base, workspace: workspace).model
        baseModel.store.freeze()  // only sampled from: its transformed weights are kept
        let evaluation = try times.measure("eval-base") {
            try MainJobEvaluation(base: baseModel, baseFolder: layout.baseEvaluation, annotators: annotators, prompts: try evalPrompts(),
                                  settings: settings, observer: observer)
        }
        for a in pairAnnotators {
            try Interruption.check(before: "pairs-\(a)")
            try times.measure("pairs-\(a)") { try pairs(annotator: a, base: baseModel, annotators: annotators) }
        }
        for r in runs {
            try Interruption.check(before: "train-\(r.name)")
            let folder = try times.measure("train-\(r.name)") { try fineTune(r, base: base, size: baseModel.sampleSize) }
            try Interruption.check(before: "eval-\(r.name)")
            try times.measure("eval-\(r.name)") {
                let tuned = try Checkpoint.loadModel(folder + "/model.safetensors", workspace: workspace).model
                tuned.store.freeze()
                try evaluation.add(r, model: tuned, folder: folder)
            }
        }
        distribution = evaluation.distribution
        samples = evaluation.samples
        scores = evaluation.scores
        versus = VersusRow.all(evaluation.scores, methods: settings.compare.methods, trainAnnotators: pairAnnotators)
        return evaluation.rows
    }
}
