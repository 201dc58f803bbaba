/// `dde-train bench step`: forward + backward of the configured model (either U-Net with its
/// encoder) at a batch size, timed, with the profiler's breakdown of where the time goes.
public struct StepBench {
    public struct Result {
        public let forward: TimingSummary
        public let backward: TimingSummary
        /// (section, seconds per step, calls per step) from one profiled step.
        public let profile: [(Profiler.Section, Double, Int)]
        public let parameters: Int
    }

    public let settings: ModelSettings
    public let batch: Int
    public let warmup: Int
    public let repeats: Int
    /// Where the model computes; its profiler is switched on for the profiled step.
    public let workspace: Workspace

    public init(settings: ModelSettings, batch: Int, warmup: Int, repeats: Int, workspace: Workspace) {
        self.workspace = workspace
        self.settings = settings
        self.batch = batch
        self.warmup = warmup
        self.repeats = repeats
    }

    public func run() -> Result {
        let model = settings.makeModel(captions: ShapesWorld.prompts.map(\.text), workspace: workspace)
        var rng = RandomStream(seed: 1)
        model.initialize(&rng)
        let d = model.imageSize
        let x = FloatBuffer(count: batch * d), dEps = FloatBuffer(count: batch * d), steps = FloatBuffer(count: batch)
        rng.fillNormal(x.pointer, count: batch * d)
        rng.fillNormal(dEps.pointer, count: batch * d)
        for i in 0..<batch { steps.pointer[i] = Float(rng.int(below: 1000)) }
        let prompts = (0..<batch).map { ShapesWorld.prompts[$0 % ShapesWorld.prompts.count].text }
        for _ in 0..<warmup {
            model.predictNoise(x.pointer, steps: steps.pointer, prompts: prompts)
            model.store.zeroGrads()
            model.backward(dEps.pointer)
        }
        var forward: [Double] = [], backward: [Double] = []
        for _ in 0..<repeats {
            let t0 = Stopwatch.now()
            model.predictNoise(x.pointer, steps: steps.pointer, prompts: prompts)
            let t1 = Stopwatch.now()
            model.store.zeroGrads()
            model.backward(dEps.pointer)
            forward.append(t1 - t0)
            backward.append(Stopwatch.now() - t1)
        }
        let profiler = workspace.profiler
        defer { profiler.reset() }
        profiler.recording {
            model.predictNoise(x.pointer, steps: steps.pointer, prompts: prompts)
            model.store.zeroGrads()
            model.backward(dEps.pointer)
        }
        return Result(forward: TimingSummary(forward), backward: TimingSummary(backward), profile: profiler.report,
                      parameters: model.store.count)
    }
}
