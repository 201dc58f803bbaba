// Bench: `dde-train bench`. `TrainingBench` times the very `PretrainStep` and `FineTuneStep` the
// stages run (Train) and guided sampling (`SamplingBenchRun`), with allocations and FLOPs;
// `KernelBench` sets each convolution against plain sgemm, `StepBench` profiles one forward and
// backward with `Profiler`, and `PeakMemory` reads the peak resident size. Compare's plan also
// uses `TrainingBench` for its time estimate.

import Foundation

/// `dde-train bench`: the training and sampling figures issue 5 compares with PyTorch, on the
/// configured model (configs/bench.conf is model.md's reference size).
///
/// - pretrain: one pretraining step of `pretrain.batch` world images, the very `PretrainStep`
///   the pretrain stage runs: the batch drawn, noise, forward, MSE, backward, finite checks,
///   gradient clipping, AdamW (and the EMA when `pretrain.ema` is on).
/// - dpo / dde: one fine-tune step of `batch` pairs (random images) with the Uniform
///   (Diffusion-DPO) or DDE loss, the very `FineTuneStep` the train stage runs: the frozen
///   reference's forward, the policy's forward and backward, the loss, clipping, AdamW and
///   (dde) the record update.
/// - lora-dpo: the dpo step with LoRA adapters (`lora.rank`, else rank 8, on `lora.targets`)
///   training alone, the reference being the same network with its adapters off (no copy).
/// - sample: DDIM with `sample.steps` steps and guidance `sample.guidance` for
///   `bench.sample_images` images; images per second.
///
/// Each timed part runs `bench.warmup` untimed steps first, then `bench.repeats` timed ones
/// (sampling: one untimed run, then `bench.sample_repeats`). Tensor allocations are counted over
/// the timed steps (`FloatBuffer.allocations`); FLOPs are the nominal count of one profiled
/// forward (2 x multiply-adds of the direct convolutions and linear layers), times 3 for a
/// training step (forward, and backward's two products).
public struct TrainingBench {
    public enum Part: String, CaseIterable, Sendable {
        case pretrain, dpo, dde, sample
        case loraDPO = "lora-dpo"

        /// The parts a bench of `model` runs by default: LoRA's only on the cross-attention
        /// network (the attention-free one has no attention projections to adapt).
        public static func defaults(for model: ModelClass) -> [Part] {
            allCases.filter { $0 != .loraDPO || model == .unet2DCondition }
        }
    }

    public struct Figures {
        /// Seconds per step (pretrain, dpo, dde) or per sampling run (sample).
        public var timings: [Part: TimingSummary] = [:]
        /// Tensor allocations per timed step (or sampling run).
        public var allocationsPerStep: [Part: Double] = [:]
        /// Data parallel (MPI): seconds per timed step spent in collectives (waiting for the
        /// slowest rank included), and the bytes summed or gathered per step.
        public var communicationPerStep: [Part: (seconds: Double, bytes: Double)] = [:]
        /// Data parallel (MPI): one allreduce of the gradients alone (the ranks lined up by a
        /// barrier first), median of the repeats, and its size in bytes.
        public var gradientAllreduce: (seconds: TimingSummary, bytes: Int)?
        public var sampleImages = 0
        /// Nominal FLOPs of one pretraining step.
        public var pretrainFLOPs = 0.0
        public var parameters = 0
        /// One profiled pretraining step: its wall time and (section, seconds, calls).
        public var pretrainProfile: (seconds: Double, sections: [(Profiler.Section, Double, Int)])?

        public var sampleImagesPerSecond: Double? {
            timings[.sample].map { Double(sampleImages) / $0.median }
        }
        public var pretrainGFLOPsPerSecond: Double? {
            timings[.pretrain].map { pretrainFLOPs / $0.median / 1e9 }
        }
    }

    let settings: RunSettings
    /// Where the models compute; its profiler is switched on for the profiled runs.
    let workspace: Workspace
    let warmup: Int
    let repeats: Int

    public init(settings: RunSettings, workspace: Workspace) {
        self.settings = settings
        self.workspace = workspace
        warmup = settings.bench.warmup
        repeats = settings.bench.repeats
    }

    public func run(_ parts: [Part], progress: (String) -> Void = { _ in }) throws -> Figures {
        var figures = Figures()
        let model = makeModel(seed: 1)
        figures.parameters = model.store.count
        for part in parts {
            progress("bench \(part.rawValue)")
            let measured: (TimingSummary, Double, (seconds: Double, bytes: Double))
            switch part {
            case .pretrain:
                let step = try PretrainStep(model: model, images: WorldImages(sampleSize: model.sampleSize,
                                                                              defectRate: settings.data.worldDefectRate), settings: settings)
                figures.pretrainFLOPs = 3 * forwardFLOPs(model, batch: settings.pretrain.batch)
                var index = 0
                let run = { _ = try step.run(step: index); index += 1 }
                measured = try time(warmup: warmup, repeats: repeats, run)
                figures.pretrainProfile = try profile(run)
            case .dpo, .dde:
                let step = try preferenceStep(policy: model, kind: part == .dpo ? .uniform : .dde)
                var index = 0
                measured = try time(warmup: warmup, repeats: repeats) { _ = try step.run(step: index); index += 1 }
            case .loraDPO:
                // A model of its own: the other parts' model stays adapter-free.
                let policy = makeModel(seed: 1)
                var rng = RandomStream(seed: 2)
                try policy.attachLoRA(settings.lora.benchAdapters, rng: &rng)
                let step = try preferenceStep(policy: policy, kind: .uniform, reference: policy)
                var index = 0
                measured = try time(warmup: warmup, repeats: repeats) { _ = try step.run(step: index); index += 1 }
            case .sample:
                // As `eval` and `sample` do: a frozen model (its transformed weights kept).
                let sampler = makeModel(seed: 1)
                sampler.store.freeze()
                let run = SamplingBenchRun(model: sampler, settings: settings)
                figures.sampleImages = run.images
                measured = try time(warmup: 1, repeats: settings.bench.sampleRepeats, run.run)
            }
            (figures.timings[part], figures.allocationsPerStep[part], figures.communicationPerStep[part]) = measured
        }
        if Cluster.current.isParallel { figures.gradientAllreduce = timeAllreduce(model.store) }
        return figures
    }

    /// One summing allreduce of a store's gradients, as a training step makes it, with nothing
    /// else to wait for: what the scaling model's communication term rests on.
    private func timeAllreduce(_ store: ParameterStore) -> (seconds: TimingSummary, bytes: Int) {
        let cluster = Cluster.current
        var samples: [Double] = []
        for i in 0..<(warmup + repeats) {
            cluster.barrier()
            let t0 = Stopwatch.now()
            cluster.sum(store.grads.pointer, count: store.count)
            if i >= warmup { samples.append(Stopwatch.now() - t0) }
        }
        return (TimingSummary(samples), 4 * store.count)
    }

    /// One run of `body` with the workspace's profiler on.
    private func profile(_ body: () throws -> Void) throws -> (seconds: Double, sections: [(Profiler.Section, Double, Int)]) {
        let profiler = workspace.profiler
        defer { profiler.reset() }
        let t0 = Stopwatch.now()
        try profiler.recording(body)
        return (Stopwatch.now() - t0, profiler.report)
    }

    /// Warm-up, then the timed repeats: their times, tensor allocations per repeat, and (MPI)
    /// communication per repeat.
    private func time(warmup: Int, repeats: Int, _ body: () throws -> Void) throws
        -> (TimingSummary, Double, (seconds: Double, bytes: Double)) {
        let cluster = Cluster.current
        for _ in 0..<warmup { try body() }
        cluster.barrier()
        cluster.resetCounters()
        let allocations = FloatBuffer.allocations
        var samples: [Double] = []
        for _ in 0..<repeats {
            let t0 = Stopwatch.now()
            try body()
            samples.append(Stopwatch.now() - t0)
        }
        let r = Double(repeats)
        return (TimingSummary(samples), Double(FloatBuffer.allocations - allocations) / r,
                (cluster.communicationSeconds / r, Double(cluster.communicatedBytes) / r))
    }

    /// The fine-tune step of `kind` on `batch` pairs of random images, with a frozen reference
    /// (a copy of the model, or `reference`: a LoRA policy itself, its adapters off).
    private func preferenceStep(policy: TextToImageModel, kind: PreferenceLoss.Kind,
                                reference given: TextToImageModel? = nil) throws -> FineTuneStep {
        let reference = given ?? makeModel(seed: 1)
        if given == nil { reference.store.freeze() }
        let method = try settings.forMethod(kind.rawValue, beta: settings.fineTune.loss.beta, lr: settings.fineTune.lr)
        let loss = PreferenceLoss(method.fineTune.loss, schedule: method.schedule)
        let d = policy.imageSize
        var data = RandomStream(seed: 4)
        let pairs = (0..<method.fineTune.batch).map { i in
            var winner = [Float](repeating: 0, count: d), loser = winner
            winner.withUnsafeMutableBufferPointer { data.fillNormal($0.baseAddress!, count: d) }
            loser.withUnsafeMutableBufferPointer { data.fillNormal($0.baseAddress!, count: d) }
            return PreferencePairs.Pair(caption: ShapesWorld.prompts[i % ShapesWorld.prompts.count].text, winner: winner,
                                        loser: loser, winnerScore: 1, loserScore: 0)
        }
        return try FineTuneStep(policy: policy, reference: reference, loss: loss, pairs: PreferencePairs(pairs: pairs), settings: method,
                                frozen: FrozenErrors(capacity: 0))  // the full step: the reference computed every time
    }

    /// Nominal FLOPs of one forward pass of `batch` images (the profiler's count).
    private func forwardFLOPs(_ model: TextToImageModel, batch: Int) -> Double {
        let x = FloatBuffer(count: batch * model.imageSize), steps = FloatBuffer(count: batch)
        let prompts = (0..<batch).map { ShapesWorld.prompts[$0 % ShapesWorld.prompts.count].text }
        let profiler = workspace.profiler
        defer { profiler.reset() }
        profiler.recording { model.predictNoise(x.pointer, steps: steps.pointer, prompts: prompts, keepActivations: false) }
        return profiler.flops
    }

    private func makeModel(seed: UInt64) -> TextToImageModel {
        let model = settings.model.makeModel(captions: ShapesWorld.prompts.map(\.text), workspace: workspace)
        var rng = RandomStream(seed: seed)
        model.initialize(&rng)
        return model
    }
}
