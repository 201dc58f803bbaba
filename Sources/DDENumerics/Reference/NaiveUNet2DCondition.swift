extension Naive {
    /// diffusers' `UNet2DConditionModel` (SD family) written out plainly, following its
    /// `forward()` and the blocks' (`CrossAttnDownBlock2D.forward`: per layer resnet then
    /// attention; `UNetMidBlock2DCrossAttn`: resnet, then attention and resnet;
    /// `CrossAttnUpBlock2D`: per layer concat the popped skip, resnet, attention), every tensor
    /// looked up by name in `p`. The heads of a level follow diffusers' `num_attention_heads or
    /// attention_head_dim` (`config.attentionHeads`), each head `channels / heads` wide.
    /// x: (N, C_in, S, S)  steps: (N)  context: (N, Lc, Dc)  out: (N, C_out, S, S)
    @inlinable public static func unet2DCondition<T: BinaryFloatingPoint>(_ config: UNet2DConditionConfig, _ p: [String: [T]], x: [T],
                                                               steps: [Double], context: [T], contextTokens lc: Int,
                                                               n: Int) -> [T] {
        let ch = config.blockOutChannels, e = config.embeddingDimension, g = config.normNumGroups, levels = ch.count
        let eps = T(config.normEps), dc = config.crossAttentionDim
        func param(_ name: String) -> [T] {
            guard let v = p[name] else { fatalError("Naive.unet2DCondition: no tensor \(name)") }
            return v
        }
        let sinusoid: [T] = timestepEmbedding(steps, dimension: ch[0], flipSinToCos: config.flipSinToCos,
                                              freqShift: config.freqShift)
        let t1 = silu(linear(sinusoid, param("time_embedding.linear_1.weight"), param("time_embedding.linear_1.bias"), n: n,
                             inFeatures: ch[0], outFeatures: e))
        let embSiLU = silu(linear(t1, param("time_embedding.linear_2.weight"), param("time_embedding.linear_2.bias"), n: n,
                                  inFeatures: e, outFeatures: e))
        var size = config.sampleSize
        func resnet(_ name: String, _ h: [T], c: Int, oc: Int) -> [T] {
            resnetBlock(param, name, h, embSiLU: embSiLU, n: n, c: c, oc: oc, h: size, w: size, groups: g, embedding: e, eps: eps)
        }
        func attention(_ name: String, _ h: [T], channels: Int, heads: Int, layers: Int) -> [T] {
            transformer2D(p, name, h, context: context, batch: n, channels: channels, height: size, width: size,
                          contextTokens: lc, contextDimension: dc, heads: heads, headDimension: channels / heads,
                          layers: layers, groups: g)
        }
        var h = conv2d(x, param("conv_in.weight"), param("conv_in.bias"), n: n, channels: config.inChannels, height: size,
                       width: size, outChannels: ch[0], kernel: 3, stride: 1, padding: 1)
        var channels = ch[0]
        var skips: [([T], Int)] = [(h, channels)]
        for level in 0..<levels {
            for j in 0..<config.layersPerBlock {
                h = resnet("down_blocks.\(level).resnets.\(j)", h, c: channels, oc: ch[level])
                channels = ch[level]
                if config.downBlockTypes[level] == .crossAttention {
                    h = attention("down_blocks.\(level).attentions.\(j)", h, channels: channels, heads: config.attentionHeads[level],
                                  layers: config.transformerLayersPerBlock[level])
                }
                skips.append((h, channels))
            }
            if level < levels - 1 {
                let name = "down_blocks.\(level).downsamplers.0.conv"
                h = conv2d(h, param("\(name).weight"), param("\(name).bias"), n: n, channels: channels, height: size, width: size,
                           outChannels: channels, kernel: 3, stride: 2, padding: 1)
                size /= 2
                skips.append((h, channels))
            }
        }
        h = resnet("mid_block.resnets.0", h, c: channels, oc: channels)
        h = attention("mid_block.attentions.0", h, channels: channels, heads: config.attentionHeads[levels - 1],
                      layers: config.transformerLayersPerBlock[levels - 1])
        h = resnet("mid_block.resnets.1", h, c: channels, oc: channels)
        let reversed = Array(ch.reversed()), heads = Array(config.attentionHeads.reversed())
        let layers = Array(config.transformerLayersPerBlock.reversed())
        for level in 0..<levels {
            for j in 0...config.layersPerBlock {
                let (skip, skipChannels) = skips.removeLast()
                let input = channelConcat(h, skip, n: n, c1: channels, c2: skipChannels, h: size, w: size)
                h = resnet("up_blocks.\(level).resnets.\(j)", input, c: channels + skipChannels, oc: reversed[level])
                channels = reversed[level]
                if config.upBlockTypes[level] == .crossAttention {
                    h = attention("up_blocks.\(level).attentions.\(j)", h, channels: channels, heads: heads[level],
                                  layers: layers[level])
                }
            }
            if level < levels - 1 {
                let upsampled = upsample2x(h, n: n, c: channels, h: size, w: size)
                size *= 2
                let name = "up_blocks.\(level).upsamplers.0.conv"
                h = conv2d(upsampled, param("\(name).weight"), param("\(name).bias"), n: n, channels: channels, height: size,
                           width: size, outChannels: channels, kernel: 3, stride: 1, padding: 1)
            }
        }
        let act = groupNorm(h, gamma: param("conv_norm_out.weight"), beta: param("conv_norm_out.bias"), n: n, c: channels,
                            h: size, w: size, groups: g, eps: eps, applySiLU: true)
        return conv2d(act, param("conv_out.weight"), param("conv_out.bias"), n: n, channels: channels, height: size, width: size,
                      outChannels: config.outChannels, kernel: 3, stride: 1, padding: 1)
    }
}
