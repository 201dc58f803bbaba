/// The noised images of a batch of pairs (winners first, then losers) and their per-image
/// errors `e = mean (eps_model - eps)^2` under a model: what every fine-tune step, the held-out
/// implicit accuracy and the credit probe compute the same way.
///
/// With `preference = false` (SFT) only the winners are noised. With `sharedNoise` winner and
/// loser of a pair share eps (the Diffusion-DPO convention); they always share t.
final class PreferenceBatch {
    let capacity: Int
    let imageSize: Int
    let sampleSize: Int
    let x0: FloatBuffer, eps: FloatBuffer, xt: FloatBuffer
    let networkSteps: FloatBuffer, errors: FloatBuffer
    private(set) var prompts: [String] = []
    private(set) var pairCount = 0
    private(set) var preference = true

    /// Room for `capacity` pairs of `sampleSize` x `sampleSize` RGB images.
    init(capacity: Int, sampleSize: Int) {
        self.capacity = capacity
        self.sampleSize = sampleSize
        imageSize = 3 * sampleSize * sampleSize
        let n = 2 * capacity * imageSize
        x0 = FloatBuffer(count: n)
        eps = FloatBuffer(count: n)
        xt = FloatBuffer(count: n)
        networkSteps = FloatBuffer(count: 2 * capacity)
        errors = FloatBuffer(count: 2 * capacity)
    }

    var images: Int { preference ? 2 * pairCount : pairCount }

    /// Noises the pairs at their t: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, eps drawn
    /// from `rng` (winners' noise first, then the losers').
    func fill(_ pairs: [PreferencePairs.Pair], t: [Int], preference: Bool, sharedNoise: Bool, schedule: NoiseSchedule,
              rng: inout RandomStream) {
        precondition(pairs.count == t.count && pairs.count <= capacity)
        pairCount = pairs.count
        self.preference = preference
        let d = imageSize, p = pairCount, n = images
        rng.fillNormal(eps.pointer, count: n * d)
        if sharedNoise && preference { (eps.pointer + p * d).update(from: eps.pointer, count: p * d) }
        prompts = []
        for i in 0..<n {
            let pair = pairs[i % p]
            let source = i < p ? pair.winner : pair.loser
            source.withUnsafeBufferPointer { (x0.pointer + i * d).update(from: $0.baseAddress!, count: d) }
            let ti = t[i % p]
            networkSteps.pointer[i] = Float(ti - 1)
            let (a, s) = schedule.noisingCoefficients(ti)
            for j in 0..<d { xt.pointer[i * d + j] = a * x0.pointer[i * d + j] + s * eps.pointer[i * d + j] }
            prompts.append(pair.caption)
        }
    }

    /// The model's noise prediction (owned by the model, valid until its next forward) and the
    /// per-image errors, winners first. `forBackward: false` (a frozen reference, held-out
    /// numbers) keeps no activations.
    func errors(of model: TextToImageModel, forBackward: Bool) -> (prediction: UnsafeMutablePointer<Float>, e: [Double]) {
        let s = sampleSize
        let pred = model.predictNoise(xt.pointer, steps: networkSteps.pointer, prompts: prompts, keepActivations: forBackward)
        PerImageMSE.forward(pred: pred, target: eps.pointer, errors.pointer, n: images, c: 3, h: s, w: s)
        return (pred, (0..<images).map { Double(errors.pointer[$0]) })
    }

    /// `D = (e_theta(w) - e_ref(w)) - (e_theta(l) - e_ref(l))` per pair.
    func differences(policy: [Double], reference: [Double]) -> [Double] {
        let p = pairCount
        return (0..<p).map { (policy[$0] - reference[$0]) - (policy[p + $0] - reference[p + $0]) }
    }

    /// Back-propagates per-image dL/de into the model's gradients (after `errors(of:)` on it).
    func backward(_ model: TextToImageModel, prediction: UnsafeMutablePointer<Float>, dLde: [Double], scratch: FloatBuffer) {
        let s = sampleSize, n = images
        for i in 0..<n { errors.pointer[i] = Float(dLde[i]) }
        scratch.zero(n * imageSize)
        PerImageMSE.backward(dE: errors.pointer, pred: prediction, target: eps.pointer, dPred: scratch.pointer, dTarget: nil,
                             n: n, c: 3, h: s, w: s)
        model.backward(scratch.pointer)
    }
}
