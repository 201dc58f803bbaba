extension Comparison {
    /// Seconds per unit of work at this run's sizes, measured by `dde-train bench`'s parts (the
    /// same step code the stages run) on this machine: what the plan's estimate rests on.
    public struct Rates: Sendable {
        public var pretrainStep: Double
        /// A preference fine-tune step (reference and policy on both images of `batch` pairs).
        public var preferenceStep: Double
        /// An SFT step: the policy on the winners alone, at pretraining's cost per image.
        public var sftStep: Double
        public var annotatorStep: Double
        /// One image through `sample.steps` guided sampler steps.
        public var sampleImage: Double

        /// Times a few steps of each (one warm-up, the median of three) in `workspace`.
        public static func measure(_ settings: RunSettings, workspace: Workspace) throws -> Rates {
            let quick = try settings.overriding(["bench.warmup": "1", "bench.repeats": "3", "bench.sample_repeats": "1",
                                                 "bench.sample_images": "8"])
            let figures = try TrainingBench(settings: quick, workspace: workspace).run([.pretrain, .dpo, .sample])
            let pretrain = figures.timings[.pretrain]!.median
            let step = AlignTrainingStep(settings.annotators.training, workspace: workspace)
            _ = try step.run(step: 0)
            let t0 = Stopwatch.now()
            for i in 1...2 { _ = try step.run(step: i) }
            return Rates(pretrainStep: pretrain, preferenceStep: figures.timings[.dpo]!.median,
                         sftStep: pretrain * Double(settings.fineTune.batch) / Double(settings.pretrain.batch),
                         annotatorStep: (Stopwatch.now() - t0) / 2,
                         sampleImage: figures.timings[.sample]!.median / Double(figures.sampleImages))
        }
    }

    /// A preference step's cost relative to a DPO step, counted in forward passes per image: the
    /// policy's forward and backward (about 3) and the reference's forward (1). MaPO runs no
    /// reference; InPO adds its inversion's no-gradient passes, SmPO twice as many (ReNoise), both
    /// averaged over the steps the fine-tune draws.
    static func stepCost(_ settings: RunSettings) -> Double {
        let kind = settings.fineTune.loss.kind, range = settings.fineTune.loss.range
        var passes = kind.needsReference ? 4.0 : 3.0
        if let inversion = settings.fineTune.inversion {
            let mean = Double((range.first...range.last).map { inversion.path(toward: $0 - 1, schedule: settings.schedule).count }.reduce(0, +))
                / Double(range.count)
            passes += (inversion.renoise ? 2 : 1) * mean
        }
        return passes / 4
    }

    /// Where a stage's finished result would come from: its folder here, or, when that does not
    /// exist yet, the same stage of `reuse`'s folder (what `adopt` copies); nil when it runs.
    func finishedSource(_ folder: String, _ signature: StageSignature) -> String? {
        if StageFolder(folder).state(for: signature) == .finished { return folder }
        guard let source = reuseSource(folder) else { return nil }
        return StageFolder(source).state(for: signature) == .finished ? source : nil
    }

    /// The plan: every stage, whether it is cached (finished here or in `reuse`'s folder), and
    /// its estimated seconds from `rates` (measured with `Rates.measure` when not given). A
    /// stage's signature covers its inputs, so a stage counts as cached only when the stages it
    /// starts from are.
    public func plan(rates given: Rates? = nil) throws -> [(stage: String, cached: Bool, seconds: Double)] {
        let rates = try given ?? Rates.measure(settings, workspace: workspace)
        let config = settings.config
        var rows: [(String, Bool, Double)] = []
        let pre = finishedSource(layout.pretrain, try Pretrainer.signature(settings))
        rows.append(("pretrain", pre != nil, Double(settings.pretrain.steps) * rates.pretrainStep))
        let ann = finishedSource(layout.annotators, StageSignature(.annotators, config))
        rows.append(("annotators", ann != nil, Double(settings.annotators.training.steps) * rates.annotatorStep))
        let base = pre.flatMap { try? Checkpoint.loadModel($0 + "/model.safetensors", workspace: workspace) }?.model.contentDigest
        let annotators = ann.flatMap { try? AnnotatorSet.load(folder: $0, workspace: workspace, external: settings.annotators.external) }
        let prompts = try prompts()
        var sampled = false  // the first pairs stage to run samples the images for all of them
        var pairsDone: [String: String] = [:]  // annotator: the pairs file, here or in `reuse`
        for a in pairAnnotators {
            var c: String?
            if let base, let annotator = annotators?.named(a) {
                c = finishedSource(layout.pairs(a), try pairsSignature(annotator, base: base))
            }
            let images = (prompts.train.count + prompts.validation.count) * settings.pairs.samplesPerPrompt
            rows.append(("pairs-\(a)", c != nil, sampled ? 5 : Double(images) * rates.sampleImage))
            if let c { pairsDone[a] = c + "/pairs.jsonl" } else { sampled = true }
        }
        let evalCost = Double(try evalPrompts().count * settings.eval.imagesPerPrompt) * rates.sampleImage
            * Double(settings.eval.steps) / Double(settings.sampler.steps)
        rows.append(("eval-base", false, evalCost))
        var pairDigests: [String: ContentDigest] = [:]
        for r in runs {
            var c = false
            if let base, let pairsFile = pairsDone[r.annotator] {
                if pairDigests[r.annotator] == nil {
                    pairDigests[r.annotator] = try PreferencePairs.load(pairsFile, size: settings.model.unet.sampleSize,
                                                                       skipBad: settings.data.skipBad).contentDigest
                }
                let signature = FineTuner.signature(try runSettings(r), base: base, pairs: pairDigests[r.annotator]!)
                c = finishedSource(layout.train(r.name), signature) != nil
            }
            let perStep = r.method == "sft" ? rates.sftStep : rates.preferenceStep * Self.stepCost(try runSettings(r))
            rows.append(("train-\(r.name)", c, Double(settings.fineTune.steps) * perStep))
            rows.append(("eval-\(r.name)", false, evalCost))
        }
        return rows
    }
}
