// Sampling: images from a model for a list of prompts. `Sampling.generate` runs `GuidedSampler`
// with the scheduler `SamplerSettings` describes; image (i, j) starts from the noise of seed
// `seed + j` whatever else shares its batch, so a column compares across prompts, runs and models,
// and the images are split over MPI ranks (Cluster). Pairs, Eval and `dde-train sample` use it.

/// Generating images for a list of prompts, `perPrompt` columns each: image (i, j) starts from
/// the noise of seed `seed + j`, whatever the prompt and whatever else shares its batch, so a
/// column is comparable across prompts, runs and models.
public enum Sampling {
    public struct Result {
        /// Per prompt, per column: the image (clamped to [-1, 1], as 8-bit RGB) and its raw x_0.
        public var images: [[(image: RGBImage, x0: [Float])]]
        /// (P * n, 3, S, S) initial noise x_T, in prompt-major order.
        public var noise: [Float]
        /// (P * n, conditioningCount) conditioning (vectors or hidden states), and the unconditional ones.
        public var cond: [Float]
        public var uncond: [Float]
        /// The network steps k visited, noisiest first.
        public var timesteps: [Int]
    }

    /// The initial noise of column j.
    public static func noise(seed: UInt64, column j: Int, count: Int) -> [Float] {
        var rng = RandomStream(seed: seed &+ UInt64(j), stream: 0x6E_6F69_7365)
        return (0..<count).map { _ in rng.normal() }
    }

    /// `sampler` on `schedule`, with `steps` and `guidance` when given (evaluation's own) and
    /// the sampler's otherwise; column j starts from seed `seed + j`.
    public static func generate(_ model: TextToImageModel, prompts: [String], perPrompt n: Int, sampler settings: SamplerSettings,
                                schedule: NoiseSchedule, seed base: UInt64, steps: Int? = nil, guidance: Float? = nil,
                                batch: Int = 32) -> Result {
        let scheduler = settings.scheduler(schedule, steps: steps)
        let guidance = guidance ?? Float(settings.guidance)
        let s = model.sampleSize, d = model.imageSize, e = model.conditioningCount
        let sampler = GuidedSampler(model: model)
        // Every (prompt, column) in prompt-major order.
        let jobs = prompts.indices.flatMap { i in (0..<n).map { (i, $0) } }
        var noise = [Float](), cond = [Float](), uncond = [Float]()
        let condBuffer = FloatBuffer(count: batch * e)
        var start = 0
        while start < jobs.count {
            let chunk = jobs[start..<min(jobs.count, start + batch)]
            noise += chunk.flatMap { Sampling.noise(seed: base, column: $0.1, count: d) }
            model.encode(chunk.map { prompts[$0.0] }, into: condBuffer.pointer)
            cond += condBuffer.array(chunk.count * e)
            model.encode([String](repeating: "", count: chunk.count), into: condBuffer.pointer)
            uncond += condBuffer.array(chunk.count * e)
            start += chunk.count
        }
        // The sampling itself, split over the ranks of an MPI job (all of it when alone).
        let sampled = Cluster.current.gather(count: jobs.count, itemSize: d) { mine in
            var out = [Float]()
            out.reserveCapacity(mine.count * d)
            var start = mine.lowerBound
            while start < mine.upperBound {
                let chunk = jobs[start..<min(mine.upperBound, start + batch)]
                var x = Array(noise[(start * d)..<((start + chunk.count) * d)])
                var rngs = chunk.map { RandomStream(seed: base &+ UInt64($0.1), stream: 0x7374_6570) }
                x.withUnsafeMutableBufferPointer {
                    sampler.sample($0.baseAddress!, prompts: chunk.map { prompts[$0.0] }, scheduler: scheduler, guidance: guidance,
                                   rngs: &rngs)
                }
                out += x
                start += chunk.count
            }
            return out
        }
        let x0 = jobs.indices.map { Array(sampled[($0 * d)..<(($0 + 1) * d)]) }
        var images: [[(image: RGBImage, x0: [Float])]] = prompts.map { _ in [] }
        for (index, job) in jobs.enumerated() {
            images[job.0].append((RGBImage(chw: x0[index].map { min(1, max(-1, $0)) }, width: s, height: s), x0[index]))
        }
        return Result(images: images, noise: noise, cond: cond, uncond: uncond, timesteps: scheduler.timesteps)
    }
}
