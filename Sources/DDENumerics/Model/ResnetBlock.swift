/// diffusers' `ResnetBlock2D` with `resnet_time_scale_shift = "default"`, SiLU, no dropout,
/// `output_scale_factor = 1`:
///
///     h   = conv1(silu(norm1(x)))
///     h  += time_emb_proj(silu(emb))[:, :, None, None]
///     h   = conv2(silu(norm2(h)))
///     out = h + (conv_shortcut(x) if C != OC else x)
///
/// `silu(emb)` is the same for every block of a U-Net, so the caller computes it once and
/// passes it in. The block owns its activations (grow-only buffers: no allocation after the
/// first step at a batch size) and keeps what backward needs.
public final class ResnetBlock: @unchecked Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let norm1: GroupNorm
    public let conv1: Conv2d
    public let timeProjection: Linear
    public let norm2: GroupNorm
    public let conv2: Conv2d
    public let shortcut: Conv2d?

    // Activations kept for backward.
    let act1 = FloatBuffer(count: 0)      // silu(norm1(x)): (N, C, H, W)
    let hidden = FloatBuffer(count: 0)    // conv1 out + time projection: (N, OC, H, W)
    let act2 = FloatBuffer(count: 0)      // silu(norm2(hidden)): (N, OC, H, W)
    let time = FloatBuffer(count: 0)      // time_emb_proj(silu(emb)): (N, OC)
    public let output = FloatBuffer(count: 0)  // (N, OC, H, W)
    let cache1 = GroupNormCache()
    /// conv1's and conv2's Winograd-transformed inputs, kept for backward.
    let conv1Input = FloatBuffer(count: 0)
    let conv2Input = FloatBuffer(count: 0)
    let cache2 = GroupNormCache()

    public init(_ store: ParameterStore, _ name: String, inChannels: Int, outChannels: Int,
                groups: Int, embeddingDimension: Int, eps: Float = 1e-5) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        norm1 = GroupNorm(store, "\(name).norm1", groups: groups, channels: inChannels, eps: eps)
        conv1 = Conv2d(store, "\(name).conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3)
        timeProjection = Linear(store, "\(name).time_emb_proj", inFeatures: embeddingDimension, outFeatures: outChannels)
        norm2 = GroupNorm(store, "\(name).norm2", groups: groups, channels: outChannels, eps: eps)
        conv2 = Conv2d(store, "\(name).conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3)
        shortcut = inChannels == outChannels ? nil
            : Conv2d(store, "\(name).conv_shortcut", inChannels: inChannels, outChannels: outChannels, kernel: 1)
    }

    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        norm1.initialize(store)
        conv1.initialize(store, &rng)
        timeProjection.initialize(store, &rng)
        norm2.initialize(store)
        conv2.initialize(store, &rng)
        shortcut?.initialize(store, &rng)
    }

    /// x: (N, C, H, W)  embSiLU: (N, E)  returns output: (N, OC, H, W), in `into` if given,
    /// else owned by the block. `keepActivations: false` (no backward follows) puts the inner
    /// activations in the workspace's transient buffers instead of the block's own.
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, embSiLU: UnsafePointer<Float>, n: Int, h: Int, w: Int,
                        _ store: ParameterStore, _ ws: Workspace, keepActivations: Bool = true,
                        into: FloatBuffer? = nil) -> UnsafeMutablePointer<Float> {
        let hw = h * w, inSize = n * inChannels * hw, outSize = n * outChannels * hw
        // The convolutions' inputs serve only their weight gradients: not kept while only LoRA
        // adapters train (the norms' backward recomputes from their own inputs).
        let keepConvInputs = keepActivations && store.trainsWeights
        let a1 = (keepConvInputs ? act1 : ws.normalisedInput).reserve(inSize)
        let hid = (keepActivations ? hidden : ws.resnetHidden).reserve(outSize)
        let a2 = (keepConvInputs ? act2 : ws.normalisedHidden).reserve(outSize)
        let t = time.reserve(n * outChannels), out = (into ?? output).reserve(outSize)
        norm1.forward(x, a1, n: n, h: h, w: w, cache: cache1, applySiLU: true, store, ws)
        conv1.forward(a1, hid, n: n, height: h, width: w, store, ws, transformedInput: keepActivations ? conv1Input : nil)
        timeProjection.forward(embSiLU, t, n: n, store, ws)
        for i in 0..<n {
            for c in 0..<outChannels {
                let plane = hid + (i * outChannels + c) * hw, v = t[i * outChannels + c]
                for p in 0..<hw { plane[p] += v }
            }
        }
        norm2.forward(hid, a2, n: n, h: h, w: w, cache: cache2, applySiLU: true, store, ws)
        if let shortcut {
            shortcut.forward(x, out, n: n, height: h, width: w, store, ws)
            // out = shortcut(x) + conv2(a2): conv2 writes into scratch, then adds.
            let tmp = ws.resnetScratch.reserve(outSize)
            conv2.forward(a2, tmp, n: n, height: h, width: w, store, ws, transformedInput: keepActivations ? conv2Input : nil)
            Elementwise.accumulate(tmp, into: out, count: outSize, ws)
        } else {
            conv2.forward(a2, out, n: n, height: h, width: w, store, ws, transformedInput: keepActivations ? conv2Input : nil)
            Elementwise.accumulate(x, into: out, count: outSize, ws)
        }
        return out
    }

    /// dOut: (N, OC, H, W)  x: the forward's input  dx: (N, C, H, W), added into
    /// dEmbSiLU: (N, E), added into. Parameter gradients are added into the store.
    public func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                         embSiLU: UnsafePointer<Float>, dEmbSiLU: UnsafeMutablePointer<Float>,
                         n: Int, h: Int, w: Int, _ store: ParameterStore, _ ws: Workspace) {
        let hw = h * w, inSize = n * inChannels * hw, outSize = n * outChannels * hw
        // Without weight gradients (LoRA) the convolutions never read their inputs, which the
        // forward then did not keep: they get the transient buffers, whatever these hold now.
        let act1 = store.trainsWeights ? self.act1 : ws.normalisedInput, act2 = store.trainsWeights ? self.act2 : ws.normalisedHidden
        // Shortcut branch: identity adds dOut into dx; a 1x1 conv back-propagates it.
        if let shortcut {
            shortcut.backward(dOut: dOut, x: x, dx: dx, n: n, height: h, width: w, store, ws)
        } else {
            Elementwise.accumulate(dOut, into: dx, count: inSize, ws)
        }
        // Main branch, from the top.
        let dAct2 = ws.resnetScratch.reserve(outSize)
        dAct2.update(repeating: 0, count: outSize)
        conv2.backward(dOut: dOut, x: act2.pointer, dx: dAct2, n: n, height: h, width: w, store, ws, transformedInput: conv2Input)
        let dHidden = ws.resnetHiddenGradient.reserve(outSize)
        dHidden.update(repeating: 0, count: outSize)
        norm2.backward(dOut: dAct2, x: hidden.pointer, dx: dHidden, n: n, h: h, w: w, cache: cache2,
                       applySiLU: true, store, ws)
        // The time projection was broadcast over H*W: its gradient is the spatial sum.
        let dTime = ws.resnetScratch.reserve(max(outSize, n * outChannels))
        for i in 0..<n {
            for c in 0..<outChannels {
                let plane = dHidden + (i * outChannels + c) * hw
                var s: Float = 0
                for p in 0..<hw { s += plane[p] }
                dTime[i * outChannels + c] = s
            }
        }
        timeProjection.backward(dOut: dTime, x: embSiLU, dx: dEmbSiLU, n: n, store, ws)
        let dAct1 = ws.resnetInputGradient.reserve(inSize)
        dAct1.update(repeating: 0, count: inSize)
        conv1.backward(dOut: dHidden, x: act1.pointer, dx: dAct1, n: n, height: h, width: w, store, ws, transformedInput: conv1Input)
        norm1.backward(dOut: dAct1, x: x, dx: dx, n: n, h: h, w: w, cache: cache1, applySiLU: true, store, ws)
    }
}
