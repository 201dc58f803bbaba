/// Text-to-image sampling with classifier-free guidance:
/// `eps = eps_uncond + g * (eps_cond - eps_uncond)` (g = 1: the conditional prediction alone,
/// one network pass), the unconditional input being the encoder's empty-prompt output.
public final class GuidedSampler: @unchecked Sendable {
    public let model: TextToImageModel
    let x2 = FloatBuffer(count: 0)
    let steps2 = FloatBuffer(count: 0)
    let cond2 = FloatBuffer(count: 0)
    let eps = FloatBuffer(count: 0)
    let noise = FloatBuffer(count: 0)

    public init(model: TextToImageModel) { self.model = model }

    /// x: (N, 3, S, S), holds x_T on entry and the final x_0 on return (before clamping).
    /// `rngs`: one stream per image for the sampler's fresh noise (eta > 0 or DDPM), so an
    /// image does not depend on which others share its batch.
    public func sample(_ x: UnsafeMutablePointer<Float>, prompts: [String], scheduler: DenoisingScheduler,
                       guidance: Float, rngs: inout [RandomStream]) {
        let n = prompts.count, d = model.imageSize, e = model.conditioningCount
        precondition(rngs.count == n)
        let guided = guidance != 1
        let rows = guided ? 2 * n : n
        // The conditioning is the same at every step: encode once.
        let c = cond2.reserve(rows * e)
        model.encode(prompts, into: c)
        if guided { model.encode([String](repeating: "", count: n), into: c + n * e) }
        let xin = x2.reserve(rows * d), st = steps2.reserve(rows), out = eps.reserve(n * d)
        let z = noise.reserve(n * d)
        for k in scheduler.timesteps {
            xin.update(from: x, count: n * d)
            if guided { (xin + n * d).update(from: x, count: n * d) }
            st.update(repeating: Float(k), count: rows)
            let pred = model.predictNoise(xin, steps: st, conditioning: c, n: rows, keepActivations: false)
            if guided {
                for i in 0..<(n * d) {
                    let u = pred[n * d + i]
                    out[i] = u + guidance * (pred[i] - u)
                }
            } else {
                out.update(from: pred, count: n * d)
            }
            if scheduler.usesNoise {
                for i in 0..<n { rngs[i].fillNormal(z + i * d, count: d) }
            }
            scheduler.step(x, eps: out, k: k, noise: scheduler.usesNoise ? z : nil, count: n * d)
        }
    }
}
