/// Multiplies every gradient by `factor`: one loop over the flat buffer, split across threads.
///
/// This is all gradient accumulation needs. Every `backward` *adds* into `store.grads`, so
/// running k micro-batches without `zeroGrads()` in between leaves the sum of their
/// gradients. When each micro-batch loss is a mean over its own samples, that sum is k times
/// the gradient of the same loss over all k micro-batches at once; one
/// `scaleGradients(store, 1 / Float(k))` before the clip and the optimizer step makes the two
/// equal, so clip thresholds, learning rates and AdamW's `eps` mean the same at every k.
/// (diffusers/accelerate divide each micro-batch loss by k instead; same result up to
/// rounding.)
///
///     store.zeroGrads()
///     for _ in 0..<k { forward(micro); backward(micro) }     // grads += d loss_micro / d theta
///     scaleGradients(store, 1 / Float(k), ws)
///     clipGradNorm(store, maxNorm: 1, ws)
///     adamW.update(store, lr: schedule.learningRate(base: lr, step: adamW.step), ws)
public func scaleGradients(_ store: ParameterStore, _ factor: Float, _ ws: Workspace) {
    let g = SendablePointer(store.grads.pointer)
    parallelChunks(store.count, threads: ws.threads) { range in
        let p = g.pointer
        for i in range { p[i] *= factor }
    }
}
