/// A transformer's activations in a forward pass that keeps none for backward
/// (`keepActivations: false`: sampling, evaluation, a frozen reference), each read only inside
/// its own `Transformer2DModel`, so every transformer of a model shares one set (the workspace's).
/// Two of them serve training too, as tensors backward recomputes instead of keeping: a block's
/// normalised inputs and its feed-forward's gate output. The set:
/// the model's normalised input and tokens; a block's normalised input (one for its three
/// sub-layers, which run in turn), its two residuals, and its output (two, taking turns between
/// blocks); an attention layer's q, k, v and attended values; a feed-forward's projection and
/// gate. A transformer's own output stays in its own buffer: the U-Net keeps it as a skip.
public final class TransformerScratch: @unchecked Sendable {
    let normalisedInput = FloatBuffer(count: 0)
    let tokens = FloatBuffer(count: 0)
    let normalised = FloatBuffer(count: 0)
    let residuals = (FloatBuffer(count: 0), FloatBuffer(count: 0))
    let blockOutputs = (FloatBuffer(count: 0), FloatBuffer(count: 0))
    let q = FloatBuffer(count: 0), k = FloatBuffer(count: 0), v = FloatBuffer(count: 0), attended = FloatBuffer(count: 0)
    let projected = FloatBuffer(count: 0)
    let gated = FloatBuffer(count: 0)

    public init() {}
}
