/// The context every kernel runs in: how many threads it may use, which convolution algorithm,
/// the profiler that times it, and the scratch memory of the layers of one model (per thread,
/// the column matrix, GEMM output and weight-gradient partial of whichever convolution runs
/// now). Layers run one at a time, so one set of grow-only buffers serves them all, and after
/// the first step nothing is allocated.
///
/// A command makes one workspace from its settings (`threads`, `conv.winograd`) and gives it to
/// every model and optimizer it builds: a fine-tune's policy and frozen reference, and the
/// sampler, run one after the other, so one set of scratch buffers serves them all. Nothing of
/// this is process-wide; two workspaces with other settings may live side by side (tests do).
public final class Workspace: @unchecked Sendable {
    /// Threads the kernels split their work over (the `threads` key).
    public let threads: Int
    /// Which Winograd algorithms convolutions may use (the `conv.winograd` key).
    public let convolution: Conv2d.WinogradSetting
    /// Times the kernels for `dde-train bench`; disabled unless a benchmark asks.
    public let profiler: Profiler

    /// The most threads a workspace has scratch for (the `threads` key's upper bound).
    public static let maxThreads = 64

    /// Per thread (index = the thread's share of the images).
    public let col = (0..<maxThreads).map { _ in FloatBuffer(count: 0) }
    public let gemm = (0..<maxThreads).map { _ in FloatBuffer(count: 0) }
    /// Per thread but the first, which adds into the store directly: dW and db partials.
    public let partial = (0..<maxThreads).map { _ in FloatBuffer(count: 0) }
    /// Per thread: the zero-bordered copy of one plane (Winograd's tile transforms).
    public let plane = (0..<maxThreads).map { _ in FloatBuffer(count: 0) }
    /// Per thread: one (image, head) pair's attention probabilities and their gradient
    /// (Lq x Lk each; `ScaledDotProductAttention`).
    public let attentionScores = (0..<maxThreads).map { _ in FloatBuffer(count: 0) }
    public let attentionScoreGradients = (0..<maxThreads).map { _ in FloatBuffer(count: 0) }
    /// An attention layer's backward: the gradients of its attended values, queries, keys and
    /// values, used only inside one call.
    public let attentionProjectionGradients = (FloatBuffer(count: 0), FloatBuffer(count: 0), FloatBuffer(count: 0),
                                               FloatBuffer(count: 0))
    /// A feed-forward's backward: the gradients of its gate's output and of its projection.
    public let feedForwardGradients = (FloatBuffer(count: 0), FloatBuffer(count: 0))
    /// A transformer block's backward: the gradient flowing down its residual stream, and of the
    /// normalised input of whichever sub-layer runs.
    public let transformerGradients = (FloatBuffer(count: 0), FloatBuffer(count: 0))
    /// A `Transformer2DModel`'s backward: the token gradients between its blocks (two, taking
    /// turns) and the gradient of its normalised input.
    public let transformerTokenGradients = (FloatBuffer(count: 0), FloatBuffer(count: 0))
    public let transformerInputGradient = FloatBuffer(count: 0)
    /// The Winograd-transformed weights of the convolution running now (16 x OC x C).
    public let transformedWeights = FloatBuffer(count: 0)
    /// A resnet block's scratch, used only inside one call, so every block of a model shares
    /// them: `resnetScratch` holds conv2's output before the shortcut adds it (forward) and then
    /// d(act2) and the time projection's gradient (backward); the other two hold d(hidden) and
    /// d(act1) in the backward pass.
    public let resnetScratch = FloatBuffer(count: 0)
    public let resnetHiddenGradient = FloatBuffer(count: 0)
    public let resnetInputGradient = FloatBuffer(count: 0)
    /// Activations of a forward pass that keeps none for backward (`keepActivations: false`),
    /// each read only by the next layer: a resnet's normalised input (and the model's final
    /// norm), hidden state and normalised hidden state; the model's concatenation and upsampled
    /// input; and two buffers the mid and up paths' outputs take turns in.
    public let normalisedInput = FloatBuffer(count: 0)
    public let resnetHidden = FloatBuffer(count: 0)
    public let normalisedHidden = FloatBuffer(count: 0)
    public let concatenation = FloatBuffer(count: 0)
    public let upsampled = FloatBuffer(count: 0)
    public let pathOutputs = (FloatBuffer(count: 0), FloatBuffer(count: 0))
    /// A transformer's activations in a forward pass that keeps none (`TransformerScratch`).
    public let transformerScratch = TransformerScratch()
    /// A LoRA adapter's call (`LoRAAdapters`): its input after dropout (or the low-rank path's
    /// contribution to dx), and the gradient of its rank-r hidden values.
    public let loraScratch = FloatBuffer(count: 0)
    public let loraHiddenGradient = FloatBuffer(count: 0)
    /// Upper bound on one thread's column matrix, in floats; a convolution processes as many
    /// images at a time as fit (at least one). 4M floats = 16 MiB gives the GEMM thousands of
    /// columns at 16x16.
    public var columnBudget: Int

    public init(threads: Int = 1, convolution: Conv2d.WinogradSetting = .f4x4,
                profiler: Profiler = Profiler(), columnBudget: Int = 1 << 22) {
        precondition((1...Self.maxThreads).contains(threads), "Workspace: threads must be in 1...\(Self.maxThreads), got \(threads)")
        BLAS.useOneThread()
        self.threads = threads
        self.convolution = convolution
        self.profiler = profiler
        self.columnBudget = columnBudget
    }
}
