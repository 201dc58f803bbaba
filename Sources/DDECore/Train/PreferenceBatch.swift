/// The noised images of a batch of pairs (winners first, then losers) and their per-image
/// errors `e = mean (eps_model - eps)^2` under a model: what every fine-tune step, the held-out
/// implicit accuracy and the credit probe compute the same way.
///
/// With `preference = false` (SFT) only the winners are noised. With `sharedNoise` winner and
/// loser of a pair share eps (the Diffusion-DPO convention); they share t unless the batch has
/// one t per image (KTO). InPO and SmPO then replace x_t and its target by a DDIM inversion
/// (`invert`).
///
/// Data parallel (MPI), a rank holds only its shard of the batch's pairs, but draws the noise of
/// the whole batch, as one process would, and keeps its shard's part.
public final class PreferenceBatch {
    public let capacity: Int
    public let imageSize: Int
    public let sampleSize: Int
    public let x0: FloatBuffer, eps: FloatBuffer, xt: FloatBuffer
    /// The whole batch's noise as drawn, before the shard's part is taken, and its pair count.
    private let drawn: FloatBuffer
    private var drawnPairs = 0
    public let networkSteps: FloatBuffer, errors: FloatBuffer
    public private(set) var prompts: [String] = []
    public private(set) var pairCount = 0
    public private(set) var preference = true

    /// Room for `capacity` pairs of `sampleSize` x `sampleSize` RGB images.
    public init(capacity: Int, sampleSize: Int) {
        self.capacity = capacity
        self.sampleSize = sampleSize
        imageSize = 3 * sampleSize * sampleSize
        let n = 2 * capacity * imageSize
        x0 = FloatBuffer(count: n)
        eps = FloatBuffer(count: n)
        xt = FloatBuffer(count: n)
        drawn = FloatBuffer(count: n)
        networkSteps = FloatBuffer(count: 2 * capacity)
        errors = FloatBuffer(count: 2 * capacity)
    }

    public var images: Int { preference ? 2 * pairCount : pairCount }

    /// Noises pairs `shard` (all when nil) of the batch `pairs` at their t:
    /// x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, eps drawn from `rng` for the whole batch
    /// (winners' noise first, then the losers'). The shard's winners come first, then its losers.
    public func fill(_ pairs: [PreferencePairs.Pair], t: [Int], preference: Bool, sharedNoise: Bool, schedule: NoiseSchedule,
                     rng: inout RandomStream, shard: Range<Int>? = nil) {
        drawNoise(pairs: pairs.count, preference: preference, rng: &rng)
        fill(pairs, t: t, preference: preference, sharedNoise: sharedNoise, schedule: schedule, range: shard ?? 0..<pairs.count)
    }

    /// Draws the noise of a whole batch of `pairs` pairs from `rng`: the winners' first, then
    /// (preference) the losers', whether or not they will be used.
    public func drawNoise(pairs: Int, preference: Bool, rng: inout RandomStream) {
        precondition(pairs <= capacity)
        drawnPairs = pairs
        rng.fillNormal(drawn.pointer, count: (preference ? 2 * pairs : pairs) * imageSize)
    }

    /// Noises pairs `range` of the batch `pairs` (a micro-batch, a rank's shard, or both) with
    /// the noise `drawNoise` drew for the whole batch. The range's winners come first, then its
    /// losers. `t` holds one step per pair, or one per image (the winners', then the losers').
    public func fill(_ pairs: [PreferencePairs.Pair], t: [Int], preference: Bool, sharedNoise: Bool, schedule: NoiseSchedule,
                     range: Range<Int>) {
        precondition((t.count == pairs.count || t.count == 2 * pairs.count) && pairs.count == drawnPairs && range.upperBound <= pairs.count)
        pairCount = range.count
        self.preference = preference
        let d = imageSize, all = pairs.count, p = pairCount, n = images
        prompts = []
        for i in 0..<n {
            let pair = range.lowerBound + i % p, winner = i < p
            let source = winner ? pairs[pair].winner : pairs[pair].loser
            source.withUnsafeBufferPointer { (x0.pointer + i * d).update(from: $0.baseAddress!, count: d) }
            let noise = winner || sharedNoise ? pair : all + pair
            (eps.pointer + i * d).update(from: drawn.pointer + noise * d, count: d)
            let ti = t.count == all || winner ? t[pair] : t[all + pair]
            networkSteps.pointer[i] = Float(ti - 1)
            let (a, s) = schedule.noisingCoefficients(ti)
            for j in 0..<d { xt.pointer[i * d + j] = a * x0.pointer[i * d + j] + s * eps.pointer[i * d + j] }
            prompts.append(winner ? pairs[pair].caption : pairs[pair].loserCaption ?? pairs[pair].caption)
        }
    }

    /// The model's noise prediction (owned by the model, valid until its next forward) and the
    /// per-image errors, winners first. `forBackward: false` (a frozen reference, held-out
    /// numbers) keeps no activations.
    public func errors(of model: TextToImageModel, forBackward: Bool) -> (prediction: UnsafeMutablePointer<Float>, e: [Double]) {
        let s = sampleSize
        let pred = model.predictNoise(xt.pointer, steps: networkSteps.pointer, prompts: prompts, keepActivations: forBackward)
        PerImageMSE.forward(pred: pred, target: eps.pointer, errors.pointer, n: images, c: 3, h: s, w: s, model.workspace)
        return (pred, (0..<images).map { Double(errors.pointer[$0]) })
    }

    /// Data parallel (MPI): the whole batch's per-image errors (the winners of all `pairs`
    /// pairs, then their losers) from every rank's `errors(of:)` on its shard (its winners, then
    /// its losers). Alone, or when this batch holds all `pairs` pairs (a batch too small to split
    /// over the ranks is filled whole on every rank): `shardErrors` itself.
    public func gathered(_ shardErrors: [Double], pairs: Int) -> [Double] {
        let cluster = Cluster.current
        guard cluster.isParallel && pairCount < pairs else { return shardErrors }
        let p = pairCount
        let winners = cluster.gather(count: pairs) { _ in Array(shardErrors[..<p]) }
        return preference ? winners + cluster.gather(count: pairs) { _ in Array(shardErrors[p...]) } : winners
    }

    /// `D = (e_theta(w) - e_ref(w)) - (e_theta(l) - e_ref(l))` per pair.
    /// `policy` and `reference` hold winners then losers, of this batch or (data parallel) of the
    /// whole batch the shards were gathered into.
    public func differences(policy: [Double], reference: [Double]) -> [Double] {
        precondition(policy.count == reference.count && policy.count % 2 == 0)
        let p = policy.count / 2
        return (0..<p).map { (policy[$0] - reference[$0]) - (policy[p + $0] - reference[p + $0]) }
    }

    /// InPO and SmPO: replaces every image's x_t and noise target by `inversion`'s, from its x0
    /// toward its network step, with `model`'s predictions (no activations kept: no gradient) and
    /// one kick stream per image.
    public func invert(with model: TextToImageModel, _ inversion: DDIMInversion, schedule: NoiseSchedule, kicks: inout [RandomStream]) {
        let n = images, k = (0..<n).map { Int(networkSteps.pointer[$0]) }
        xt.pointer.update(from: x0.pointer, count: n * imageSize)
        let prompts = self.prompts
        inversion.invert(xt.pointer, target: eps.pointer, count: n, size: imageSize, k: k, schedule: schedule, kicks: &kicks) { x, steps, active in
            UnsafePointer(model.predictNoise(x, steps: steps, prompts: active.map { prompts[$0] }, keepActivations: false))
        }
    }

    /// DSPO: each winner's policy-to-reference distance `d_w = mean (eps_theta - eps_ref)^2`,
    /// from the policy's prediction and the reference's winner predictions (`winnerPredictions`).
    /// The same per-image mean as the errors (`PerImageMSE`), whose backward `backward` uses.
    public func winnerDistances(prediction: UnsafePointer<Float>, reference: [Float], _ workspace: Workspace) -> [Double] {
        let s = sampleSize
        var distances = [Float](repeating: 0, count: pairCount)
        reference.withUnsafeBufferPointer { ref in
            distances.withUnsafeMutableBufferPointer {
                PerImageMSE.forward(pred: prediction, target: ref.baseAddress!, $0.baseAddress!, n: pairCount, c: 3, h: s, w: s, workspace)
            }
        }
        return distances.map(Double.init)
    }

    /// The winners' part of a prediction (owned by its model until its next forward), copied.
    public func winnerPredictions(_ prediction: UnsafePointer<Float>) -> [Float] {
        Array(UnsafeBufferPointer(start: prediction, count: pairCount * imageSize))
    }

    /// Back-propagates per-image dL/de into the model's gradients (after `errors(of:)` on it);
    /// DSPO adds dL/dd_w per winner through `d_w = mean (prediction - reference)^2`.
    public func backward(_ model: TextToImageModel, prediction: UnsafeMutablePointer<Float>, dLde: [Double], scratch: FloatBuffer,
                         distance: (dLdd: [Double], reference: [Float])? = nil) {
        let s = sampleSize, n = images
        for i in 0..<n { errors.pointer[i] = Float(dLde[i]) }
        scratch.zero(n * imageSize)
        PerImageMSE.backward(dE: errors.pointer, pred: prediction, target: eps.pointer, dPred: scratch.pointer, dTarget: nil,
                             n: n, c: 3, h: s, w: s, model.workspace)
        if let distance {
            for i in 0..<pairCount { errors.pointer[i] = Float(distance.dLdd[i]) }
            distance.reference.withUnsafeBufferPointer {
                PerImageMSE.backward(dE: errors.pointer, pred: prediction, target: $0.baseAddress!, dPred: scratch.pointer, dTarget: nil,
                                     n: pairCount, c: 3, h: s, w: s, model.workspace)
            }
        }
        model.backward(scratch.pointer)
    }
}
