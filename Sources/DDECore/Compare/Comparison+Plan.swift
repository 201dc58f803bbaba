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

    /// The plan: every stage, whether it is cached, and its estimated seconds from `rates`
    /// (measured with `Rates.measure` when not given). A stage's signature covers its inputs, so
    /// a stage counts as cached only when the stages it starts from are finished here.
    public func plan(rates given: Rates? = nil) throws -> [(stage: String, cached: Bool, seconds: Double)] {
        let rates = try given ?? Rates.measure(settings, workspace: workspace)
        let config = settings.config
        var rows: [(String, Bool, Double)] = []
        let pre = pretrainFolder.state(for: try Pretrainer.signature(settings)) == .finished
        rows.append(("pretrain", pre, Double(settings.pretrain.steps) * rates.pretrainStep))
        let ann = annotatorsFolder.state(for: StageSignature(.annotators, config)) == .finished
        rows.append(("annotators", ann, Double(settings.annotators.training.steps) * rates.annotatorStep))
        let base = pre ? (try? Checkpoint.loadModel(layout.baseModel, workspace: workspace))?.model.contentDigest : nil
        let annotators = ann ? try? AnnotatorSet.load(folder: layout.annotators, workspace: workspace) : nil
        var sampled = false  // the first pairs stage to run samples the images for all of them
        var pairsDone: Set<String> = []
        for a in pairAnnotators {
            var c = false
            if let base, let annotator = annotators?.named(a) {
                c = StageFolder(layout.pairs(a)).state(for: try pairsSignature(annotator, base: base)) == .finished
            }
            let images = (ShapesWorld.split().train.count + ShapesWorld.split().validation.count) * settings.pairs.samplesPerPrompt
            rows.append(("pairs-\(a)", c, sampled ? 5 : Double(images) * rates.sampleImage))
            if c { pairsDone.insert(a) } else { sampled = true }
        }
        let evalCost = Double(evalPrompts.count * settings.eval.imagesPerPrompt) * rates.sampleImage
            * Double(settings.eval.steps) / Double(settings.sampler.steps)
        rows.append(("eval-base", false, evalCost))
        var pairDigests: [String: ContentDigest] = [:]
        for r in runs {
            var c = false
            if let base, pairsDone.contains(r.annotator) {
                if pairDigests[r.annotator] == nil {
                    pairDigests[r.annotator] = try PreferencePairs.load(layout.pairsFile(r.annotator), size: settings.model.unet.sampleSize,
                                                                       skipBad: settings.data.skipBad).contentDigest
                }
                let signature = FineTuner.signature(try runSettings(r), base: base, pairs: pairDigests[r.annotator]!)
                c = StageFolder(layout.train(r.name)).state(for: signature) == .finished
            }
            let perStep = r.method == "sft" ? rates.sftStep : rates.preferenceStep * Self.stepCost(try runSettings(r))
            rows.append(("train-\(r.name)", c, Double(settings.fineTune.steps) * perStep))
            rows.append(("eval-\(r.name)", false, evalCost))
        }
        return rows
    }
}
