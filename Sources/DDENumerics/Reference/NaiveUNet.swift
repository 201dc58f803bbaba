extension Naive {
    /// diffusers' ResnetBlock2D by composition of the naive twins. `p(name)` gives a tensor's
    /// values by its state-dict name. x: (N, C, H, W)  embSiLU: (N, E)  out: (N, OC, H, W)
    @inlinable public static func resnetBlock<T: BinaryFloatingPoint>(_ p: (String) -> [T], _ name: String, _ x: [T], embSiLU: [T],
                                                           n: Int, c: Int, oc: Int, h: Int, w: Int,
                                                           groups: Int, embedding e: Int, eps: T = 1e-5) -> [T] {
        let a1 = groupNorm(x, gamma: p("\(name).norm1.weight"), beta: p("\(name).norm1.bias"), n: n, c: c, h: h, w: w,
                           groups: groups, eps: eps, applySiLU: true)
        var hidden = conv2d(a1, p("\(name).conv1.weight"), p("\(name).conv1.bias"), n: n, channels: c, height: h,
                            width: w, outChannels: oc, kernel: 3, stride: 1, padding: 1)
        let t = linear(embSiLU, p("\(name).time_emb_proj.weight"), p("\(name).time_emb_proj.bias"), n: n,
                       inFeatures: e, outFeatures: oc)
        for i in 0..<n { for o in 0..<oc { for q in 0..<(h * w) { hidden[(i * oc + o) * h * w + q] += t[i * oc + o] } } }
        let a2 = groupNorm(hidden, gamma: p("\(name).norm2.weight"), beta: p("\(name).norm2.bias"), n: n, c: oc, h: h,
                           w: w, groups: groups, eps: eps, applySiLU: true)
        let out = conv2d(a2, p("\(name).conv2.weight"), p("\(name).conv2.bias"), n: n, channels: oc, height: h,
                         width: w, outChannels: oc, kernel: 3, stride: 1, padding: 1)
        let skip = c == oc ? x : conv2d(x, p("\(name).conv_shortcut.weight"), p("\(name).conv_shortcut.bias"), n: n,
                                        channels: c, height: h, width: w, outChannels: oc, kernel: 1, stride: 1, padding: 0)
        return zip(out, skip).map { $0 + $1 }
    }

    /// diffusers' UNet2DModel (attention-free, identity class embedding) written out plainly,
    /// following diffusers' forward() line by line rather than the fast model's buffer plan.
    /// x: (N, 3, S, S)  steps: (N)  cond: (N, E)  out: (N, 3, S, S)
    @inlinable public static func unet<T: BinaryFloatingPoint>(_ config: UNetConfig, _ p: (String) -> [T], x: [T], steps: [Double],
                                                    cond: [T], n: Int) -> [T] {
        let ch = config.blockOutChannels, e = config.embeddingDimension, g = config.normNumGroups
        let levels = ch.count
        // emb = time_embedding(time_proj(t)) + class_embedding(class_labels)
        let sinusoid: [T] = timestepEmbedding(steps, dimension: ch[0])
        let t1 = silu(linear(sinusoid, p("time_embedding.linear_1.weight"), p("time_embedding.linear_1.bias"), n: n,
                             inFeatures: ch[0], outFeatures: e))
        let emb = zip(linear(t1, p("time_embedding.linear_2.weight"), p("time_embedding.linear_2.bias"), n: n,
                             inFeatures: e, outFeatures: e), cond).map { $0 + $1 }
        let embSiLU = silu(emb)
        var size = config.sampleSize
        var h = conv2d(x, p("conv_in.weight"), p("conv_in.bias"), n: n, channels: config.inChannels, height: size,
                       width: size, outChannels: ch[0], kernel: 3, stride: 1, padding: 1)
        var channels = ch[0]
        var skips: [([T], Int)] = [(h, channels)]
        for level in 0..<levels {
            for j in 0..<config.layersPerBlock {
                h = resnetBlock(p, "down_blocks.\(level).resnets.\(j)", h, embSiLU: embSiLU, n: n, c: channels,
                                oc: ch[level], h: size, w: size, groups: g, embedding: e)
                channels = ch[level]
                skips.append((h, channels))
            }
            if level < levels - 1 {
                let name = "down_blocks.\(level).downsamplers.0.conv"
                h = conv2d(h, p("\(name).weight"), p("\(name).bias"), n: n, channels: channels, height: size, width: size,
                           outChannels: channels, kernel: 3, stride: 2, padding: 1)
                size /= 2
                skips.append((h, channels))
            }
        }
        for j in 0..<2 {
            h = resnetBlock(p, "mid_block.resnets.\(j)", h, embSiLU: embSiLU, n: n, c: channels, oc: channels,
                            h: size, w: size, groups: g, embedding: e)
        }
        let reversed = Array(ch.reversed())
        for level in 0..<levels {
            for j in 0...config.layersPerBlock {
                let (skip, skipChannels) = skips.removeLast()
                let input = channelConcat(h, skip, n: n, c1: channels, c2: skipChannels, h: size, w: size)
                h = resnetBlock(p, "up_blocks.\(level).resnets.\(j)", input, embSiLU: embSiLU, n: n,
                                c: channels + skipChannels, oc: reversed[level], h: size, w: size, groups: g, embedding: e)
                channels = reversed[level]
            }
            if level < levels - 1 {
                let up = upsample2x(h, n: n, c: channels, h: size, w: size)
                size *= 2
                let name = "up_blocks.\(level).upsamplers.0.conv"
                h = conv2d(up, p("\(name).weight"), p("\(name).bias"), n: n, channels: channels, height: size, width: size,
                           outChannels: channels, kernel: 3, stride: 1, padding: 1)
            }
        }
        let act = groupNorm(h, gamma: p("conv_norm_out.weight"), beta: p("conv_norm_out.bias"), n: n, c: channels,
                            h: size, w: size, groups: g, applySiLU: true)
        return conv2d(act, p("conv_out.weight"), p("conv_out.bias"), n: n, channels: channels, height: size, width: size,
                      outChannels: config.outChannels, kernel: 3, stride: 1, padding: 1)
    }
}
