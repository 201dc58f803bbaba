extension Naive {
    /// One AdamW update written straight from the algorithm box in PyTorch's `AdamW`
    /// documentation (weight decay, moments, bias-corrected `mhat` and `vhat`, update), with
    /// nothing folded or fused; generic so tests run it in `Double`.
    ///
    /// `t` is the 1-based index of this update; `weightDecay[i]` is the decay of parameter i
    /// (0 where a tensor is excluded).
    public static func adamW<T: BinaryFloatingPoint>(params: inout [T], grads: [T], m: inout [T], v: inout [T],
                                                     t: Int, lr: T, beta1: T, beta2: T, eps: T,
                                                     weightDecay: [T]) {
        var beta1t: T = 1, beta2t: T = 1
        for _ in 0..<t { beta1t *= beta1; beta2t *= beta2 }
        for i in 0..<params.count {
            params[i] = params[i] - lr * weightDecay[i] * params[i]
            m[i] = beta1 * m[i] + (1 - beta1) * grads[i]
            v[i] = beta2 * v[i] + (1 - beta2) * grads[i] * grads[i]
            let mhat = m[i] / (1 - beta1t)
            let vhat = v[i] / (1 - beta2t)
            params[i] = params[i] - lr * mhat / (vhat.squareRoot() + eps)
        }
    }
}
