/// The computation both U-Nets share (`UNet2DModel`, `UNet2DConditionModel`): the time
/// embedding, the down path, the mid block, the up path and the output head, over units of a
/// resnet optionally followed by a `Transformer2DModel` (diffusers' cross-attention blocks).
///
///     emb  = linear_2(silu(linear_1(sinusoid(k)))) [+ cond]          (N, E), E = 4*C0
///     h    = conv_in(x); skips = [h]
///     down: per level, `layers_per_block` units (each output a skip), then a stride-2 conv
///           except at the last level (its output a skip too)
///     mid:  resnet, [transformer,] resnet
///     up:   per level (reversed), `layers_per_block + 1` units on concat([h, skips.pop()]),
///           then nearest x2 + 3x3 conv except at the last level
///     out  = conv_out(silu(conv_norm_out(h)))                        epsilon prediction
///
/// `cond` is `UNet2DModel`'s "identity" class embedding (added to the time embedding);
/// `context` is `UNet2DConditionModel`'s `encoder_hidden_states`, attended to by every
/// transformer. Parameters under diffusers' names. The core owns every activation it keeps for
/// backward; `keepActivations: false` sends those only the next layer reads to the workspace's
/// transient buffers.
final class UNetCore: @unchecked Sendable {
    /// The shape, from either model's config.
    struct Shape {
        /// Heads and transformer layers of a cross-attention block.
        struct Attention { let heads: Int; let layers: Int }
        let channels: [Int]
        let layersPerBlock: Int
        let groups: Int
        let eps: Float
        let inChannels: Int
        let outChannels: Int
        let sampleSize: Int
        let flipSinToCos: Bool
        let freqShift: Int
        /// Per level, highest resolution first; nil: no attention.
        let downAttention: [Attention?]
        /// Per up level, lowest resolution first.
        let upAttention: [Attention?]
        let midAttention: Attention?
        let contextDimension: Int
        let linearProjection: Bool

        var embeddingDimension: Int { 4 * channels[0] }
    }

    /// One step of the down or up path: a resnet and, in a cross-attention block, a transformer.
    struct Unit {
        let resnet: ResnetBlock
        let attention: Transformer2DModel?
    }

    let shape: Shape
    let store: ParameterStore
    let workspace: Workspace
    let timeLinear1: Linear
    let timeLinear2: Linear
    let convIn: Conv2d
    let down: [[Unit]]
    let downsamplers: [Conv2d?]
    let midResnets: [ResnetBlock]
    let midAttention: Transformer2DModel?
    let up: [[Unit]]
    let upsamplers: [Conv2d?]
    let normOut: GroupNorm
    let convOut: Conv2d

    /// Registers the tensors into `store` (which the caller seals, possibly after adding more).
    init(_ shape: Shape, store: ParameterStore, workspace: Workspace) {
        self.shape = shape
        self.store = store
        self.workspace = workspace
        let ch = shape.channels, levels = ch.count, e = shape.embeddingDimension, g = shape.groups, eps = shape.eps
        func resnet(_ name: String, _ inChannels: Int, _ outChannels: Int) -> ResnetBlock {
            ResnetBlock(store, name, inChannels: inChannels, outChannels: outChannels, groups: g, embeddingDimension: e, eps: eps)
        }
        func transformer(_ name: String, _ channels: Int, _ a: Shape.Attention?) -> Transformer2DModel? {
            guard let a else { return nil }
            return Transformer2DModel(store, name, channels: channels, heads: a.heads, headDimension: channels / a.heads,
                                      layers: a.layers, contextDimension: shape.contextDimension, groups: g,
                                      linearProjection: shape.linearProjection)
        }
        timeLinear1 = Linear(store, "time_embedding.linear_1", inFeatures: ch[0], outFeatures: e)
        timeLinear2 = Linear(store, "time_embedding.linear_2", inFeatures: e, outFeatures: e)
        convIn = Conv2d(store, "conv_in", inChannels: shape.inChannels, outChannels: ch[0], kernel: 3)
        var down: [[Unit]] = [], downsamplers: [Conv2d?] = []
        var output = ch[0]
        for level in 0..<levels {
            let input = output, name = "down_blocks.\(level)"
            output = ch[level]
            down.append((0..<shape.layersPerBlock).map { j in
                Unit(resnet: resnet("\(name).resnets.\(j)", j == 0 ? input : output, output),
                     attention: transformer("\(name).attentions.\(j)", output, shape.downAttention[level]))
            })
            downsamplers.append(level == levels - 1 ? nil
                : Conv2d(store, "\(name).downsamplers.0.conv", inChannels: output, outChannels: output,
                         kernel: 3, stride: 2, padding: 1))
        }
        self.down = down
        self.downsamplers = downsamplers
        let deepest = ch[levels - 1]
        midResnets = (0..<2).map { resnet("mid_block.resnets.\($0)", deepest, deepest) }
        midAttention = transformer("mid_block.attentions.0", deepest, shape.midAttention)
        let reversed = Array(ch.reversed())
        var up: [[Unit]] = [], upsamplers: [Conv2d?] = []
        output = reversed[0]
        for level in 0..<levels {
            let previous = output, name = "up_blocks.\(level)"
            output = reversed[level]
            let input = reversed[min(level + 1, levels - 1)]
            let count = shape.layersPerBlock + 1
            up.append((0..<count).map { j in
                let skip = j == count - 1 ? input : output
                let resnetIn = j == 0 ? previous : output
                return Unit(resnet: resnet("\(name).resnets.\(j)", resnetIn + skip, output),
                            attention: transformer("\(name).attentions.\(j)", output, shape.upAttention[level]))
            })
            upsamplers.append(level == levels - 1 ? nil
                : Conv2d(store, "\(name).upsamplers.0.conv", inChannels: output, outChannels: output, kernel: 3))
        }
        self.up = up
        self.upsamplers = upsamplers
        normOut = GroupNorm(store, "conv_norm_out", groups: g, channels: ch[0], eps: eps)
        convOut = Conv2d(store, "conv_out", inChannels: ch[0], outChannels: shape.outChannels, kernel: 3)
        downOut = (0..<levels).map { _ in FloatBuffer(count: 0) }
        concat = up.map { $0.map { _ in FloatBuffer(count: 0) } }
        upsampled = (0..<levels).map { _ in FloatBuffer(count: 0) }
        upConvOut = (0..<levels).map { _ in FloatBuffer(count: 0) }
        upConvInput = (0..<levels).map { _ in FloatBuffer(count: 0) }
        skipGrads = (0..<(1 + levels * shape.layersPerBlock + levels - 1)).map { _ in FloatBuffer(count: 0) }
    }

    /// PyTorch's default initialisation of every layer, as diffusers leaves it, in module order.
    func initialize(_ rng: inout RandomStream) {
        timeLinear1.initialize(store, &rng)
        timeLinear2.initialize(store, &rng)
        convIn.initialize(store, &rng)
        func initialize(_ unit: Unit) {
            unit.resnet.initialize(store, &rng)
            unit.attention?.initialize(store, &rng)
        }
        for level in 0..<down.count {
            for unit in down[level] { initialize(unit) }
            downsamplers[level]?.initialize(store, &rng)
        }
        midResnets[0].initialize(store, &rng)
        midAttention?.initialize(store, &rng)
        midResnets[1].initialize(store, &rng)
        for level in 0..<up.count {
            for unit in up[level] { initialize(unit) }
            upsamplers[level]?.initialize(store, &rng)
        }
        normOut.initialize(store)
        convOut.initialize(store, &rng)
    }

    // MARK: Activations kept between forward and backward

    let sinusoid = FloatBuffer(count: 0)       // (N, C0)
    let timeHidden = FloatBuffer(count: 0)     // linear_1 out (N, E)
    let timeAct = FloatBuffer(count: 0)        // silu(linear_1 out) (N, E)
    let emb = FloatBuffer(count: 0)            // linear_2 out [+ cond] (N, E)
    let embSiLU = FloatBuffer(count: 0)        // silu(emb) (N, E)
    let input = FloatBuffer(count: 0)          // x (N, C_in, S, S), copied so backward can read it
    let context = FloatBuffer(count: 0)        // encoder_hidden_states (N, Lc, Dc), copied likewise
    let convInOut = FloatBuffer(count: 0)      // (N, C0, S, S)
    var downOut: [FloatBuffer]                 // downsampler outputs, per level but the last
    var concat: [[FloatBuffer]]                // up-unit inputs, per level and unit
    var upsampled: [FloatBuffer]               // nearest x2 of a level's last unit output
    var upConvOut: [FloatBuffer]               // upsampler conv outputs
    var upConvInput: [FloatBuffer]             // upsampler convs' Winograd-transformed inputs
    let normOutAct = FloatBuffer(count: 0)     // silu(conv_norm_out(h)) (N, C0, S, S)
    let normOutCache = GroupNormCache()
    /// The epsilon prediction of the last `forward`: (N, C_out, S, S).
    let prediction = FloatBuffer(count: 0)

    /// The down path is a chain; every tensor on it is a skip: (pointer, channels, size).
    var skips: [(pointer: UnsafeMutablePointer<Float>, channels: Int, size: Int)] = []
    var lastUpOutput: UnsafeMutablePointer<Float>?
    var batch = 0
    var contextTokens = 0
    var addedCond = false
    /// Whether the last forward kept what backward needs.
    var keptActivations = false

    // Gradients: one buffer per skip tensor (both the next layer and an up-block add into it),
    // ping-pong buffers for the up path, and the embedding's and the context's.
    var skipGrads: [FloatBuffer]
    let gradA = FloatBuffer(count: 0)
    let gradB = FloatBuffer(count: 0)
    let gradConcat = FloatBuffer(count: 0)
    let dEmbSiLU = FloatBuffer(count: 0)
    let dEmb = FloatBuffer(count: 0)
    /// d loss / d cond after `backward` (when the forward had one): (N, E).
    let condGradient = FloatBuffer(count: 0)
    /// d loss / d context after `backward` (when the network attends): (N, Lc, Dc).
    let contextGradient = FloatBuffer(count: 0)
}

extension UNetCore {
    /// x: (N, C_in, S, S)  steps: (N) network step k  cond: (N, E) or nil
    /// context: (N, Lc, Dc) (nil without attention)
    /// Returns the epsilon prediction (N, C_out, S, S), owned by the core (valid until the next call).
    func forward(_ x: UnsafePointer<Float>, steps: UnsafePointer<Float>, cond: UnsafePointer<Float>?,
                 context encoderHiddenStates: UnsafePointer<Float>?, contextTokens lc: Int, n: Int,
                 keepActivations: Bool) -> UnsafeMutablePointer<Float> {
        let ch = shape.channels, e = shape.embeddingDimension, ws = workspace, keep = keepActivations
        var size = shape.sampleSize
        batch = n
        contextTokens = lc
        keptActivations = keep
        addedCond = cond != nil
        let sin = sinusoid.reserve(n * ch[0])
        TimestepEmbedding.forward(steps, sin, n: n, dimension: ch[0], flipSinToCos: shape.flipSinToCos, freqShift: shape.freqShift)
        let th = timeHidden.reserve(n * e), ta = timeAct.reserve(n * e)
        let em = emb.reserve(n * e), es = embSiLU.reserve(n * e)
        timeLinear1.forward(sin, th, n: n, store, ws)
        SiLU.forward(th, ta, count: n * e, ws)
        timeLinear2.forward(ta, em, n: n, store, ws)
        if let cond { Elementwise.accumulate(cond, into: em, count: n * e, ws) }
        SiLU.forward(em, es, count: n * e, ws)
        var ctx: UnsafeMutablePointer<Float>?
        if let encoderHiddenStates {
            let count = n * lc * shape.contextDimension
            ctx = context.reserve(count)
            ctx!.update(from: encoderHiddenStates, count: count)
        }

        let inSize = n * shape.inChannels * size * size
        let xin = input.reserve(inSize)
        xin.update(from: x, count: inSize)
        let h0 = convInOut.reserve(n * ch[0] * size * size)
        convIn.forward(xin, h0, n: n, height: size, width: size, store, ws)
        skips.removeAll(keepingCapacity: true)
        skips.append((h0, ch[0], size))
        // Without backward, the mid and up paths' resnet outputs (read only by the next layer,
        // a transformer's residual included) take turns in two transient buffers.
        var turn = 0
        func nextOutput() -> FloatBuffer? {
            if keep { return nil }
            turn ^= 1
            return turn == 0 ? ws.pathOutputs.0 : ws.pathOutputs.1
        }
        func attend(_ attention: Transformer2DModel?, _ h: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
            guard let attention else { return h }
            guard let ctx else { preconditionFailure("UNetCore.forward: a cross-attention block without encoder hidden states") }
            return attention.forward(h, context: ctx, batch: n, height: size, width: size, contextTokens: lc, store, ws,
                                     keepActivations: keep)
        }
        var cur = h0
        for level in 0..<ch.count {
            for unit in down[level] {
                cur = attend(unit.attention, unit.resnet.forward(cur, embSiLU: es, n: n, h: size, w: size, store, ws,
                                                                 keepActivations: keep))
                skips.append((cur, unit.resnet.outChannels, size))
            }
            if let ds = downsamplers[level] {
                let out = downOut[level].reserve(n * ch[level] * (size / 2) * (size / 2))
                ds.forward(cur, out, n: n, height: size, width: size, store, ws)
                size /= 2
                cur = out
                skips.append((cur, ch[level], size))
            }
        }
        cur = midResnets[0].forward(cur, embSiLU: es, n: n, h: size, w: size, store, ws, keepActivations: keep, into: nextOutput())
        cur = attend(midAttention, cur)
        cur = midResnets[1].forward(cur, embSiLU: es, n: n, h: size, w: size, store, ws, keepActivations: keep, into: nextOutput())
        var curChannels = ch[ch.count - 1]
        for level in 0..<up.count {
            for (j, unit) in up[level].enumerated() {
                let skip = skips[skipIndex(level: level, unit: j)]
                let cat = (keep ? concat[level][j] : ws.concatenation).reserve(n * (curChannels + skip.channels) * size * size)
                ChannelConcat.forward(cur, skip.pointer, cat, n: n, c1: curChannels, c2: skip.channels, h: size, w: size, ws)
                cur = attend(unit.attention, unit.resnet.forward(cat, embSiLU: es, n: n, h: size, w: size, store, ws,
                                                                 keepActivations: keep, into: nextOutput()))
                curChannels = unit.resnet.outChannels
            }
            if let us = upsamplers[level] {
                // The upsampler conv's input serves only its weight gradient: not kept under LoRA.
                let upx = (keep && store.trainsWeights ? upsampled[level] : ws.upsampled).reserve(n * curChannels * 4 * size * size)
                Upsample2x.forward(cur, upx, n: n, c: curChannels, h: size, w: size, ws)
                size *= 2
                let out = (nextOutput() ?? upConvOut[level]).reserve(n * curChannels * size * size)
                us.forward(upx, out, n: n, height: size, width: size, store, ws, transformedInput: keep ? upConvInput[level] : nil)
                cur = out
            }
        }
        lastUpOutput = cur
        let act = (keep && store.trainsWeights ? normOutAct : ws.normalisedInput).reserve(n * ch[0] * size * size)
        normOut.forward(cur, act, n: n, h: size, w: size, cache: normOutCache, applySiLU: true, store, ws)
        let pred = prediction.reserve(n * shape.outChannels * size * size)
        convOut.forward(act, pred, n: n, height: size, width: size, store, ws)
        return pred
    }

    /// dPred: (N, C_out, S, S), the loss gradient w.r.t. the last forward's prediction.
    /// Adds every parameter gradient into the store and leaves d loss / d cond in
    /// `condGradient` and d loss / d context in `contextGradient`.
    func backward(_ dPred: UnsafePointer<Float>) {
        precondition(keptActivations, "UNetCore.backward: the last forward kept no activations (keepActivations: false)")
        let n = batch, ch = shape.channels, e = shape.embeddingDimension, ws = workspace
        var size = shape.sampleSize
        let maxActivation = n * maxChannels * size * size
        let gA = gradA.reserve(maxActivation), gB = gradB.reserve(maxActivation)
        for (i, s) in skips.enumerated() {
            skipGrads[i].reserve(n * s.channels * s.size * s.size)
            skipGrads[i].zero(n * s.channels * s.size * s.size)
        }
        let des = dEmbSiLU.reserve(n * e)
        des.update(repeating: 0, count: n * e)
        let contextCount = n * contextTokens * shape.contextDimension
        let dContext = contextGradient.reserve(contextCount)
        dContext.update(repeating: 0, count: contextCount)
        let ctx = context.pointer, es = embSiLU.pointer

        /// A unit back from its output's gradient `dOut` to `dx` (added into); `x` its input;
        /// `scratch` carries the gradient between the transformer and the resnet.
        func back(_ unit: Unit, dOut: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                  scratch: UnsafeMutablePointer<Float>) {
            var dResnet = dOut
            if let attention = unit.attention {
                scratch.update(repeating: 0, count: n * unit.resnet.outChannels * size * size)
                attention.backward(dOut: dOut, x: unit.resnet.output.pointer, context: ctx, dx: scratch, dContext: dContext,
                                   store, ws)
                dResnet = scratch
            }
            unit.resnet.backward(dOut: dResnet, x: x, dx: dx, embSiLU: es, dEmbSiLU: des, n: n, h: size, w: size, store, ws)
        }

        // out = conv_out(silu(conv_norm_out(h)))
        let top = n * ch[0] * size * size
        gA.update(repeating: 0, count: top)
        // Without weight gradients (LoRA) a convolution never reads its input, then not kept.
        convOut.backward(dOut: dPred, x: (store.trainsWeights ? normOutAct : ws.normalisedInput).pointer, dx: gA, n: n, height: size, width: size, store, ws)
        gB.update(repeating: 0, count: top)
        normOut.backward(dOut: gA, x: lastUpOutput!, dx: gB, n: n, h: size, w: size, cache: normOutCache,
                         applySiLU: true, store, ws)
        // Up path, backwards; gB holds the gradient of the current tensor.
        for level in stride(from: up.count - 1, through: 0, by: -1) {
            let levelChannels = up[level].last!.resnet.outChannels
            if let us = upsamplers[level] {
                let big = n * levelChannels * size * size
                gA.update(repeating: 0, count: big)
                us.backward(dOut: gB, x: (store.trainsWeights ? upsampled[level] : ws.upsampled).pointer, dx: gA, n: n, height: size, width: size, store, ws,
                            transformedInput: upConvInput[level])
                size /= 2
                gB.update(repeating: 0, count: big / 4)
                Upsample2x.backward(dOut: gA, dx: gB, n: n, c: levelChannels, h: size, w: size, ws)
            }
            for j in stride(from: up[level].count - 1, through: 0, by: -1) {
                let unit = up[level][j]
                let k = skipIndex(level: level, unit: j)
                let skip = skips[k]
                let c1 = unit.resnet.inChannels - skip.channels
                let catSize = n * unit.resnet.inChannels * size * size
                let dCat = gradConcat.reserve(catSize)
                dCat.update(repeating: 0, count: catSize)
                back(unit, dOut: gB, x: concat[level][j].pointer, dx: dCat, scratch: gA)
                gB.update(repeating: 0, count: n * c1 * size * size)
                ChannelConcat.backward(dOut: dCat, da: gB, db: skipGrads[k].pointer,
                                       n: n, c1: c1, c2: skip.channels, h: size, w: size, ws)
            }
        }
        // Mid block: resnet, [transformer,] resnet on the last skip.
        let last = skips.count - 1
        let midSize = n * ch[ch.count - 1] * size * size
        gA.update(repeating: 0, count: midSize)
        midResnets[1].backward(dOut: gB, x: (midAttention?.output ?? midResnets[0].output).pointer, dx: gA, embSiLU: es,
                               dEmbSiLU: des, n: n, h: size, w: size, store, ws)
        var dMid = gA
        if let midAttention {
            gB.update(repeating: 0, count: midSize)
            midAttention.backward(dOut: gA, x: midResnets[0].output.pointer, context: ctx, dx: gB, dContext: dContext, store, ws)
            dMid = gB
        }
        midResnets[0].backward(dOut: dMid, x: skips[last].pointer, dx: skipGrads[last].pointer, embSiLU: es,
                               dEmbSiLU: des, n: n, h: size, w: size, store, ws)
        // Down path: a chain, skip i is produced from skip i-1.
        var i = last
        for level in stride(from: ch.count - 1, through: 0, by: -1) {
            if let ds = downsamplers[level] {
                let s = skips[i - 1]
                ds.backward(dOut: skipGrads[i].pointer, x: s.pointer, dx: skipGrads[i - 1].pointer,
                            n: n, height: s.size, width: s.size, store, ws)
                size *= 2
                i -= 1
            }
            for unit in down[level].reversed() {
                back(unit, dOut: skipGrads[i].pointer, x: skips[i - 1].pointer, dx: skipGrads[i - 1].pointer, scratch: gA)
                i -= 1
            }
        }
        size = shape.sampleSize
        convIn.backward(dOut: skipGrads[0].pointer, x: input.pointer, dx: nil, n: n, height: size, width: size, store, ws)

        // Embedding: emb = linear_2(silu(linear_1(sinusoid))) [+ cond]; es = silu(emb).
        let de = dEmb.reserve(n * e)
        de.update(repeating: 0, count: n * e)
        SiLU.backward(dOut: des, x: emb.pointer, dx: de, count: n * e, ws)
        if addedCond { condGradient.reserve(n * e).update(from: de, count: n * e) }
        gA.update(repeating: 0, count: n * e)
        timeLinear2.backward(dOut: de, x: timeAct.pointer, dx: gA, n: n, store, ws)
        gB.update(repeating: 0, count: n * e)
        SiLU.backward(dOut: gA, x: timeHidden.pointer, dx: gB, count: n * e, ws)
        timeLinear1.backward(dOut: gB, x: sinusoid.pointer, dx: nil, n: n, store, ws)
    }

    /// Which skip the j-th unit of up level `level` consumes: the up path pops the down path's
    /// tensors last-first, `layers_per_block + 1` per level.
    func skipIndex(level: Int, unit j: Int) -> Int {
        skips.count - 1 - level * (shape.layersPerBlock + 1) - j
    }

    /// The widest activation (channels per pixel) of the network, the up-path concatenations
    /// included (at most three times the widest level), or the embedding's width, for sizing
    /// the gradient buffers.
    var maxChannels: Int { max(3 * shape.channels.max()!, shape.embeddingDimension) }
}
