extension Naive {
    /// The `align` classifier by its definition (`AlignClassifier`), from named parameters:
    /// x: (N, 3, S, S) -> per attribute the logits, (N, K_a).
    @inlinable public static func alignLogits<T: BinaryFloatingPoint>(_ p: (String) -> [T], x: [T], n: Int, size s: Int,
                                                                       channels: [Int], strides: [Int], featureCount f: Int,
                                                                       groups: [Int]) -> [[T]] {
        var h = x, c = 3, side = s
        for (l, oc) in channels.enumerated() {
            let name = "conv\(l + 1)", norm = "norm\(l + 1)"
            let out = (side - 1) / strides[l] + 1
            h = conv2d(h, p("\(name).weight"), p("\(name).bias"), n: n, channels: c, height: side, width: side,
                       outChannels: oc, kernel: 3, stride: strides[l], padding: 1)
            h = groupNorm(h, gamma: p("\(norm).weight"), beta: p("\(norm).bias"), n: n, c: oc, h: out, w: out,
                          groups: groups[l], applySiLU: true)
            c = oc
            side = out
        }
        let pooled = globalAveragePool(h, n: n, c: c, h: side, w: side)
        let features = silu(linear(pooled, p("penultimate.weight"), p("penultimate.bias"), n: n, inFeatures: c, outFeatures: f))
        return zip(AlignClassifier.attributeNames, AlignClassifier.classCounts).map { name, k in
            linear(features, p("head.\(name).weight"), p("head.\(name).bias"), n: n, inFeatures: f, outFeatures: k)
        }
    }
}
