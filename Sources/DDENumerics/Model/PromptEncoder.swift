/// The project's prompt encoder: a prompt's conditioning vector of size E = 4*C0, added to
/// the U-Net's time embedding (diffusers' "identity" class embedding, model.md).
///
///     ids   = tokenizer(prompt)                      (L) word ids, padded with <pad>
///     tok   = token_embedding[ids]                   (L, D)
///     h     = silu(linear_1(flatten(tok)))           (E)   flatten keeps word order, so
///     cond  = linear_2(h)                            (E)   "red circle on navy" differs from
///                                                          "navy circle on red"
///     empty prompt: cond = null_embedding            (E)   learned; classifier-free guidance
///                                                          uses it as the unconditional input
///
/// Tensors: `prompt_encoder.token_embedding.weight` (V, D), `prompt_encoder.linear_1.{weight,bias}`
/// (E, L*D), `prompt_encoder.linear_2.{weight,bias}` (E, E), `prompt_encoder.null_embedding` (E).
public final class PromptEncoder: @unchecked Sendable {
    public let tokenizer: Tokenizer
    public let dimension: Int
    public let outputDimension: Int
    public let store: ParameterStore
    let tokenEmbedding: Embedding
    let linear1: Linear
    let linear2: Linear
    public let nullEmbedding: ParameterSlot

    // Activations for backward.
    let ids = UnsafeMutableBufferPointerBox()
    let tokens = FloatBuffer(count: 0)     // (N, L*D)
    let hidden = FloatBuffer(count: 0)     // linear_1 out (N, E)
    let act = FloatBuffer(count: 0)        // silu(hidden) (N, E)
    let dMasked = FloatBuffer(count: 0)
    let dAct = FloatBuffer(count: 0)
    let dHidden = FloatBuffer(count: 0)
    let dTokens = FloatBuffer(count: 0)
    var isEmpty: [Bool] = []
    var batch = 0

    public init(_ store: ParameterStore, tokenizer: Tokenizer, dimension: Int, outputDimension: Int) {
        self.store = store
        self.tokenizer = tokenizer
        self.dimension = dimension
        self.outputDimension = outputDimension
        tokenEmbedding = Embedding(store, "prompt_encoder.token_embedding", vocabularySize: tokenizer.vocabularySize,
                                   dimension: dimension)
        linear1 = Linear(store, "prompt_encoder.linear_1", inFeatures: tokenizer.maxTokens * dimension,
                         outFeatures: outputDimension)
        linear2 = Linear(store, "prompt_encoder.linear_2", inFeatures: outputDimension, outFeatures: outputDimension)
        nullEmbedding = store.add("prompt_encoder.null_embedding", [outputDimension])
    }

    public func initialize(_ rng: inout RandomStream) {
        tokenEmbedding.initialize(store, &rng)
        linear1.initialize(store, &rng)
        linear2.initialize(store, &rng)
        // Zero: at the start the unconditional input adds nothing to the time embedding.
        store.parameters(nullEmbedding).update(repeating: 0, count: outputDimension)
    }

    /// prompts: N strings ("" is the empty prompt)  out: (N, E)
    public func forward(_ prompts: [String], _ out: UnsafeMutablePointer<Float>, _ ws: Workspace) {
        let n = prompts.count, l = tokenizer.maxTokens, d = dimension, e = outputDimension
        batch = n
        isEmpty = prompts.map { Tokenizer.split($0).isEmpty }
        let idp = ids.reserve(n * l)
        for (i, p) in prompts.enumerated() {
            let enc = tokenizer.encode(p)
            for j in 0..<l { idp[i * l + j] = enc[j] }
        }
        let tok = tokens.reserve(n * l * d), hid = hidden.reserve(n * e), a = act.reserve(n * e)
        tokenEmbedding.forward(idp, tok, n: n * l, store)
        linear1.forward(tok, hid, n: n, store, ws)
        SiLU.forward(hid, a, count: n * e, ws)
        linear2.forward(a, out, n: n, store, ws)
        let null = store.parameters(nullEmbedding)
        for i in 0..<n where isEmpty[i] { (out + i * e).update(from: null, count: e) }
    }

    /// dOut: (N, E), the gradient w.r.t. the last forward's output. Adds into the store.
    public func backward(_ dOut: UnsafePointer<Float>, _ ws: Workspace) {
        let n = batch, l = tokenizer.maxTokens, d = dimension, e = outputDimension
        let dNull = store.gradient(nullEmbedding)
        // Rows of empty prompts came from the null embedding only.
        let da = dAct.reserve(n * e), dh = dHidden.reserve(n * e), dt = dTokens.reserve(n * l * d)
        let masked = dMasked.reserve(n * e)
        for i in 0..<n {
            let row = dOut + i * e
            if isEmpty[i] {
                for k in 0..<e { dNull[k] += row[k] }
                (masked + i * e).update(repeating: 0, count: e)
            } else {
                (masked + i * e).update(from: row, count: e)
            }
        }
        da.update(repeating: 0, count: n * e)
        linear2.backward(dOut: masked, x: act.pointer, dx: da, n: n, store, ws)
        dh.update(repeating: 0, count: n * e)
        SiLU.backward(dOut: da, x: hidden.pointer, dx: dh, count: n * e, ws)
        dt.update(repeating: 0, count: n * l * d)
        linear1.backward(dOut: dh, x: tokens.pointer, dx: dt, n: n, store, ws)
        tokenEmbedding.backward(dOut: dt, ids: ids.pointer, n: n * l, store)
    }
}

/// A grow-only buffer of token ids.
final class UnsafeMutableBufferPointerBox: @unchecked Sendable {
    private(set) var pointer = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var capacity = 1
    func reserve(_ n: Int) -> UnsafeMutablePointer<Int32> {
        if n > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: n)
            capacity = n
        }
        return pointer
    }
    deinit { pointer.deallocate() }
}
