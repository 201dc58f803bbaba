/// One guided DDIM run from fresh noise, as `Sampling.generate` runs it.
final class SamplingBenchRun {
    let sampler: GuidedSampler
    let scheduler: DenoisingScheduler
    let guidance: Float
    let images: Int
    let prompts: [String]
    let x: FloatBuffer
    var rngs: [RandomStream]
    var noise = RandomStream(seed: 5)

    init(model: TextToImageModel, settings: RunSettings) {
        sampler = GuidedSampler(model: model)
        scheduler = settings.sampler.scheduler(settings.schedule)
        guidance = Float(settings.sampler.guidance)
        images = settings.bench.sampleImages
        // Data parallel (MPI): this rank's shard of the images, as `Sampling.generate` splits them.
        let mine = Cluster.current.shard(images)
        prompts = mine.map { ShapesWorld.prompts[$0 % ShapesWorld.prompts.count].text }
        x = FloatBuffer(count: mine.count * model.imageSize)
        rngs = mine.map { RandomStream(seed: 100 + UInt64($0)) }
    }

    func run() throws {
        noise.fillNormal(x.pointer, count: prompts.count * sampler.model.imageSize)
        sampler.sample(x.pointer, prompts: prompts, scheduler: scheduler, guidance: guidance, rngs: &rngs)
        Cluster.current.barrier()  // the run ends when the slowest rank's shard does
    }
}
