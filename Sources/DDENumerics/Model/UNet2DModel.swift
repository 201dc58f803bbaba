// Model: the text-to-image network. `UNet2DModel` is diffusers' attention-free `UNet2DModel`
// (built from `ResnetBlock`s, shaped by `UNetConfig`, parameters under diffusers' state-dict
// names); `PromptEncoder` turns a prompt, split by the word-level `Tokenizer`, into the
// conditioning vector; `TextToImageModel` holds both in one `ParameterStore` and predicts the
// noise. For the Stable Diffusion family (issue 15): `Transformer2DModel` (group norm, projection
// in, `BasicTransformerBlock`s of self-attention, cross-attention and a GEGLU `FeedForward`,
// projection out, residual) and `CLIPTextEncoder` (token and position embeddings, causal pre-norm
// layers, final layer norm), each under diffusers' or transformers' names. Models own their
// activations in grow-only buffers. Builds on Layers, Ops, Optim, Tensor and Random.

/// diffusers' `UNet2DModel` with `DownBlock2D`/`UpBlock2D` (no attention),
/// `class_embed_type = "identity"`, positional time embedding (`flip_sin_to_cos = True`,
/// `freq_shift = 0`), SiLU, `norm_eps = 1e-5`, conv down/up-sampling (model.md).
///
///     emb  = linear_2(silu(linear_1(sinusoid(k)))) + cond          (N, E), E = 4*C0
///     h    = conv_in(x); skips = [h]
///     down: per level, `layers_per_block` resnets (each output a skip), then a stride-2
///           conv except at the last level (its output a skip too)
///     mid:  two resnets
///     up:   per level (reversed), `layers_per_block + 1` resnets on concat([h, skips.pop()]),
///           then nearest x2 + 3x3 conv except at the last level
///     out  = conv_out(silu(conv_norm_out(h)))                      epsilon prediction
///
/// Parameters live in one `ParameterStore` under diffusers' state-dict names. The model owns
/// every activation it keeps for backward (grow-only buffers).
public final class UNet2DModel: @unchecked Sendable {
    public let config: UNetConfig
    public let store: ParameterStore
    public let workspace: Workspace

    let timeLinear1: Linear
    let timeLinear2: Linear
    let convIn: Conv2d
    /// Per level: the resnets, then the downsampler (nil at the last level).
    let downResnets: [[ResnetBlock]]
    let downsamplers: [Conv2d?]
    let midResnets: [ResnetBlock]
    let upResnets: [[ResnetBlock]]
    let upsamplers: [Conv2d?]
    let normOut: GroupNorm
    let convOut: Conv2d

    /// Registers the U-Net's tensors into `store` (which the caller seals, possibly after
    /// adding more, e.g. the prompt encoder).
    public init(_ config: UNetConfig, store: ParameterStore, workspace: Workspace) {
        self.config = config
        self.store = store
        self.workspace = workspace
        let ch = config.blockOutChannels, levels = ch.count, e = config.embeddingDimension, g = config.normNumGroups
        timeLinear1 = Linear(store, "time_embedding.linear_1", inFeatures: ch[0], outFeatures: e)
        timeLinear2 = Linear(store, "time_embedding.linear_2", inFeatures: e, outFeatures: e)
        convIn = Conv2d(store, "conv_in", inChannels: config.inChannels, outChannels: ch[0], kernel: 3)
        var downResnets: [[ResnetBlock]] = [], downsamplers: [Conv2d?] = []
        var output = ch[0]
        for level in 0..<levels {
            let input = output
            output = ch[level]
            downResnets.append((0..<config.layersPerBlock).map { j in
                ResnetBlock(store, "down_blocks.\(level).resnets.\(j)", inChannels: j == 0 ? input : output,
                            outChannels: output, groups: g, embeddingDimension: e)
            })
            downsamplers.append(level == levels - 1 ? nil
                : Conv2d(store, "down_blocks.\(level).downsamplers.0.conv", inChannels: output, outChannels: output,
                         kernel: 3, stride: 2, padding: 1))
        }
        self.downResnets = downResnets
        self.downsamplers = downsamplers
        midResnets = (0..<2).map { j in
            ResnetBlock(store, "mid_block.resnets.\(j)", inChannels: ch[levels - 1], outChannels: ch[levels - 1],
                        groups: g, embeddingDimension: e)
        }
        let reversed = Array(ch.reversed())
        var upResnets: [[ResnetBlock]] = [], upsamplers: [Conv2d?] = []
        output = reversed[0]
        for level in 0..<levels {
            let previous = output
            output = reversed[level]
            let input = reversed[min(level + 1, levels - 1)]
            let count = config.layersPerBlock + 1
            upResnets.append((0..<count).map { j in
                let skip = j == count - 1 ? input : output
                let resnetIn = j == 0 ? previous : output
                return ResnetBlock(store, "up_blocks.\(level).resnets.\(j)", inChannels: resnetIn + skip,
                                   outChannels: output, groups: g, embeddingDimension: e)
            })
            upsamplers.append(level == levels - 1 ? nil
                : Conv2d(store, "up_blocks.\(level).upsamplers.0.conv", inChannels: output, outChannels: output, kernel: 3))
        }
        self.upResnets = upResnets
        self.upsamplers = upsamplers
        normOut = GroupNorm(store, "conv_norm_out", groups: g, channels: ch[0])
        convOut = Conv2d(store, "conv_out", inChannels: ch[0], outChannels: config.outChannels, kernel: 3)
        allocateActivationLists()
    }

    /// PyTorch's default initialisation of every layer, as diffusers leaves it.
    public func initialize(_ rng: inout RandomStream) {
        timeLinear1.initialize(store, &rng)
        timeLinear2.initialize(store, &rng)
        convIn.initialize(store, &rng)
        for level in 0..<downResnets.count {
            for r in downResnets[level] { r.initialize(store, &rng) }
            downsamplers[level]?.initialize(store, &rng)
        }
        for r in midResnets { r.initialize(store, &rng) }
        for level in 0..<upResnets.count {
            for r in upResnets[level] { r.initialize(store, &rng) }
            upsamplers[level]?.initialize(store, &rng)
        }
        normOut.initialize(store)
        convOut.initialize(store, &rng)
    }

    // MARK: Activations kept between forward and backward

    let sinusoid = FloatBuffer(count: 0)       // (N, C0)
    let timeHidden = FloatBuffer(count: 0)     // linear_1 out (N, E)
    let timeAct = FloatBuffer(count: 0)        // silu(linear_1 out) (N, E)
    let emb = FloatBuffer(count: 0)            // linear_2 out + cond (N, E)
    let embSiLU = FloatBuffer(count: 0)        // silu(emb) (N, E)
    let input = FloatBuffer(count: 0)          // x (N, 3, S, S), copied so backward can read it
    let convInOut = FloatBuffer(count: 0)      // (N, C0, S, S)
    var downOut: [FloatBuffer] = []            // downsampler outputs, per level but the last
    var concat: [[FloatBuffer]] = []           // up-resnet inputs, per level and resnet
    var upsampled: [FloatBuffer] = []          // nearest x2 of a level's last resnet output
    var upConvOut: [FloatBuffer] = []          // upsampler conv outputs
    var upConvInput: [FloatBuffer] = []        // upsampler convs' Winograd-transformed inputs
    let normOutAct = FloatBuffer(count: 0)     // silu(conv_norm_out(h)) (N, C0, S, S)
    let normOutCache = GroupNormCache()
    /// The epsilon prediction of the last `forward`: (N, 3, S, S).
    public let prediction = FloatBuffer(count: 0)

    /// The down path is a chain; every tensor on it is a skip: (pointer, channels, size).
    var skips: [(pointer: UnsafeMutablePointer<Float>, channels: Int, size: Int)] = []
    var lastUpOutput: UnsafeMutablePointer<Float>?
    var batch = 0
    /// Whether the last forward kept what backward needs.
    var keptActivations = false

    // Gradients: one buffer per skip tensor (both the next layer and an up-block add into it),
    // ping-pong buffers for the up path, and the embedding's.
    var skipGrads: [FloatBuffer] = []
    let gradA = FloatBuffer(count: 0)
    let gradB = FloatBuffer(count: 0)
    let gradConcat = FloatBuffer(count: 0)
    let dEmbSiLU = FloatBuffer(count: 0)
    let dEmb = FloatBuffer(count: 0)
    /// d loss / d cond after `backward`: (N, E).
    public let condGradient = FloatBuffer(count: 0)

    func allocateActivationLists() {
        let levels = config.blockOutChannels.count
        downOut = (0..<levels).map { _ in FloatBuffer(count: 0) }
        concat = upResnets.map { $0.map { _ in FloatBuffer(count: 0) } }
        upsampled = (0..<levels).map { _ in FloatBuffer(count: 0) }
        upConvOut = (0..<levels).map { _ in FloatBuffer(count: 0) }
        upConvInput = (0..<levels).map { _ in FloatBuffer(count: 0) }
        skipGrads = (0..<(1 + levels * config.layersPerBlock + levels - 1)).map { _ in FloatBuffer(count: 0) }
    }
}

extension UNet2DModel {
    /// x: (N, 3, S, S)  steps: (N) network step k = t - 1  cond: (N, E)
    /// Returns the epsilon prediction (N, 3, S, S), owned by the model (valid until the next call).
    /// `keepActivations: false` when no backward follows (a frozen reference, sampling,
    /// evaluation): the activations only the next layer reads go to the workspace's transient
    /// buffers, so such a model holds little more than the down path's skip connections.
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, steps: UnsafePointer<Float>, cond: UnsafePointer<Float>,
                        n: Int, keepActivations: Bool = true) -> UnsafeMutablePointer<Float> {
        let ch = config.blockOutChannels, e = config.embeddingDimension, ws = workspace, keep = keepActivations
        var size = config.sampleSize
        batch = n
        keptActivations = keep
        // Time embedding plus the prompt's conditioning vector ("identity" class embedding).
        let sin = sinusoid.reserve(n * ch[0])
        TimestepEmbedding.forward(steps, sin, n: n, dimension: ch[0])
        let th = timeHidden.reserve(n * e), ta = timeAct.reserve(n * e)
        let em = emb.reserve(n * e), es = embSiLU.reserve(n * e)
        timeLinear1.forward(sin, th, n: n, store, ws)
        SiLU.forward(th, ta, count: n * e, ws)
        timeLinear2.forward(ta, em, n: n, store, ws)
        Elementwise.accumulate(cond, into: em, count: n * e, ws)
        SiLU.forward(em, es, count: n * e, ws)

        let inSize = n * config.inChannels * size * size
        let xin = input.reserve(inSize)
        xin.update(from: x, count: inSize)
        let h0 = convInOut.reserve(n * ch[0] * size * size)
        convIn.forward(xin, h0, n: n, height: size, width: size, store, ws)
        skips.removeAll(keepingCapacity: true)
        skips.append((h0, ch[0], size))
        var cur = h0
        for level in 0..<ch.count {
            for r in downResnets[level] {
                cur = r.forward(cur, embSiLU: es, n: n, h: size, w: size, store, ws, keepActivations: keep)
                skips.append((cur, r.outChannels, size))
            }
            if let ds = downsamplers[level] {
                let out = downOut[level].reserve(n * ch[level] * (size / 2) * (size / 2))
                ds.forward(cur, out, n: n, height: size, width: size, store, ws)
                size /= 2
                cur = out
                skips.append((cur, ch[level], size))
            }
        }
        // Without backward, the mid and up paths' outputs (read only by the next layer) take
        // turns in two transient buffers.
        var turn = 0
        func nextOutput() -> FloatBuffer? {
            if keep { return nil }
            turn ^= 1
            return turn == 0 ? ws.pathOutputs.0 : ws.pathOutputs.1
        }
        for r in midResnets {
            cur = r.forward(cur, embSiLU: es, n: n, h: size, w: size, store, ws, keepActivations: keep, into: nextOutput())
        }
        var curChannels = ch[ch.count - 1]
        for level in 0..<upResnets.count {
            for (j, r) in upResnets[level].enumerated() {
                let skip = skips[skipIndex(level: level, resnet: j)]
                let cat = (keep ? concat[level][j] : ws.concatenation).reserve(n * (curChannels + skip.channels) * size * size)
                ChannelConcat.forward(cur, skip.pointer, cat, n: n, c1: curChannels, c2: skip.channels, h: size, w: size, ws)
                cur = r.forward(cat, embSiLU: es, n: n, h: size, w: size, store, ws, keepActivations: keep, into: nextOutput())
                curChannels = r.outChannels
            }
            if let us = upsamplers[level] {
                let up = (keep ? upsampled[level] : ws.upsampled).reserve(n * curChannels * 4 * size * size)
                Upsample2x.forward(cur, up, n: n, c: curChannels, h: size, w: size, ws)
                size *= 2
                let out = (nextOutput() ?? upConvOut[level]).reserve(n * curChannels * size * size)
                us.forward(up, out, n: n, height: size, width: size, store, ws, transformedInput: keep ? upConvInput[level] : nil)
                cur = out
            }
        }
        lastUpOutput = cur
        let act = (keep ? normOutAct : ws.normalisedInput).reserve(n * ch[0] * size * size)
        normOut.forward(cur, act, n: n, h: size, w: size, cache: normOutCache, applySiLU: true, store, ws)
        let pred = prediction.reserve(n * config.outChannels * size * size)
        convOut.forward(act, pred, n: n, height: size, width: size, store, ws)
        return pred
    }

    /// dPred: (N, 3, S, S), the loss gradient w.r.t. the last forward's prediction.
    /// Adds every parameter gradient into the store and leaves d loss / d cond in `condGradient`.
    public func backward(_ dPred: UnsafePointer<Float>) {
        precondition(keptActivations, "UNet2DModel.backward: the last forward kept no activations (keepActivations: false)")
        let n = batch, ch = config.blockOutChannels, e = config.embeddingDimension, ws = workspace
        var size = config.sampleSize
        let maxActivation = n * maxChannels * size * size
        let gA = gradA.reserve(maxActivation), gB = gradB.reserve(maxActivation)
        for (i, s) in skips.enumerated() {
            skipGrads[i].reserve(n * s.channels * s.size * s.size)
            skipGrads[i].zero(n * s.channels * s.size * s.size)
        }
        let des = dEmbSiLU.reserve(n * e)
        des.update(repeating: 0, count: n * e)

        // out = conv_out(silu(conv_norm_out(h)))
        let top = n * ch[0] * size * size
        gA.update(repeating: 0, count: top)
        convOut.backward(dOut: dPred, x: normOutAct.pointer, dx: gA, n: n, height: size, width: size, store, ws)
        gB.update(repeating: 0, count: top)
        normOut.backward(dOut: gA, x: lastUpOutput!, dx: gB, n: n, h: size, w: size, cache: normOutCache,
                         applySiLU: true, store, ws)
        // Up path, backwards; gB holds the gradient of the current tensor.
        for level in stride(from: upResnets.count - 1, through: 0, by: -1) {
            let levelChannels = upResnets[level].last!.outChannels
            if let us = upsamplers[level] {
                let big = n * levelChannels * size * size
                gA.update(repeating: 0, count: big)
                us.backward(dOut: gB, x: upsampled[level].pointer, dx: gA, n: n, height: size, width: size, store, ws,
                            transformedInput: upConvInput[level])
                size /= 2
                gB.update(repeating: 0, count: big / 4)
                Upsample2x.backward(dOut: gA, dx: gB, n: n, c: levelChannels, h: size, w: size, ws)
            }
            for j in stride(from: upResnets[level].count - 1, through: 0, by: -1) {
                let r = upResnets[level][j]
                let k = skipIndex(level: level, resnet: j)
                let skip = skips[k]
                let c1 = r.inChannels - skip.channels
                let catSize = n * r.inChannels * size * size
                let dCat = gradConcat.reserve(catSize)
                dCat.update(repeating: 0, count: catSize)
                r.backward(dOut: gB, x: concat[level][j].pointer, dx: dCat, embSiLU: embSiLU.pointer, dEmbSiLU: des,
                           n: n, h: size, w: size, store, ws)
                gB.update(repeating: 0, count: n * c1 * size * size)
                ChannelConcat.backward(dOut: dCat, da: gB, db: skipGrads[k].pointer,
                                       n: n, c1: c1, c2: skip.channels, h: size, w: size, ws)
            }
        }
        // Mid block: its input is the last skip.
        let last = skips.count - 1
        let midSize = n * ch[ch.count - 1] * size * size
        gA.update(repeating: 0, count: midSize)
        midResnets[1].backward(dOut: gB, x: midResnets[0].output.pointer, dx: gA, embSiLU: embSiLU.pointer,
                               dEmbSiLU: des, n: n, h: size, w: size, store, ws)
        midResnets[0].backward(dOut: gA, x: skips[last].pointer, dx: skipGrads[last].pointer, embSiLU: embSiLU.pointer,
                               dEmbSiLU: des, n: n, h: size, w: size, store, ws)
        // Down path: a chain, skip i is produced from skip i-1.
        var i = last
        for level in stride(from: ch.count - 1, through: 0, by: -1) {
            if let ds = downsamplers[level] {
                let s = skips[i - 1]
                ds.backward(dOut: skipGrads[i].pointer, x: s.pointer, dx: skipGrads[i - 1].pointer,
                            n: n, height: s.size, width: s.size, store, ws)
                i -= 1
            }
            for r in downResnets[level].reversed() {
                let s = skips[i - 1]
                r.backward(dOut: skipGrads[i].pointer, x: s.pointer, dx: skipGrads[i - 1].pointer,
                           embSiLU: embSiLU.pointer, dEmbSiLU: des, n: n, h: s.size, w: s.size, store, ws)
                i -= 1
            }
        }
        size = config.sampleSize
        convIn.backward(dOut: skipGrads[0].pointer, x: input.pointer, dx: nil, n: n, height: size, width: size, store, ws)

        // Embedding: emb = linear_2(silu(linear_1(sinusoid))) + cond; es = silu(emb).
        let de = dEmb.reserve(n * e)
        de.update(repeating: 0, count: n * e)
        SiLU.backward(dOut: des, x: emb.pointer, dx: de, count: n * e, ws)
        condGradient.reserve(n * e).update(from: de, count: n * e)
        gA.update(repeating: 0, count: n * e)
        timeLinear2.backward(dOut: de, x: timeAct.pointer, dx: gA, n: n, store, ws)
        gB.update(repeating: 0, count: n * e)
        SiLU.backward(dOut: gA, x: timeHidden.pointer, dx: gB, count: n * e, ws)
        timeLinear1.backward(dOut: gB, x: sinusoid.pointer, dx: nil, n: n, store, ws)
    }

    /// Which skip the j-th resnet of up level `level` consumes: the up path pops the down
    /// path's tensors last-first, `layers_per_block + 1` per level.
    func skipIndex(level: Int, resnet j: Int) -> Int {
        skips.count - 1 - level * (config.layersPerBlock + 1) - j
    }

    /// The widest activation (channels x pixels per image) of the network, including the
    /// up-path concatenations and the embedding, for sizing the gradient buffers.
    var maxChannels: Int {
        let ch = config.blockOutChannels
        return max(2 * ch.max()! + ch.max()!, config.embeddingDimension)
    }
}
