/// The shape of the CLIP-style text encoder (transformers' `CLIPTextConfig` names in comments).
public struct TextEncoderConfig: Sendable, Equatable, Codable {
    /// `vocab_size`: the world tokenizer's vocabulary.
    public var vocabularySize: Int
    /// `hidden_size`: the U-Net's `cross_attention_dim`, as in Stable Diffusion.
    public var width: Int
    /// `num_hidden_layers`
    public var layers: Int
    /// `num_attention_heads`
    public var heads: Int
    /// `intermediate_size`: the MLP's hidden width.
    public var intermediate: Int
    /// `max_position_embeddings`: the tokenizer's length.
    public var length: Int

    public init(vocabularySize: Int, width: Int, layers: Int, heads: Int, intermediate: Int, length: Int) {
        self.vocabularySize = vocabularySize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.intermediate = intermediate
        self.length = length
    }
}

/// transformers' `CLIPTextModel` (`hidden_act = "quick_gelu"`, `layer_norm_eps = 1e-5`, no
/// attention mask but the causal one, as Stable Diffusion's pipelines call it); its last hidden
/// states are the U-Net's `encoder_hidden_states`.
///
///     h = token_embedding[ids] + position_embedding[0..<L]             (N, L, D)
///     per layer:  h = h + self_attn(layer_norm1(h))                   causal, CLIP's q/k/v/out_proj
///                 h = h + fc2(quick_gelu(fc1(layer_norm2(h))))
///     out = final_layer_norm(h)
///
/// Tensors under `text_encoder.text_model.`: `embeddings.token_embedding.weight`,
/// `embeddings.position_embedding.weight`, `encoder.layers.<i>.{layer_norm1, self_attn.{q,k,v,out}_proj,
/// layer_norm2, mlp.fc1, mlp.fc2}`, `final_layer_norm` (transformers' names after the prefix).
public final class CLIPTextEncoder: @unchecked Sendable {
    public static let prefix = "text_encoder.text_model"

    /// One pre-norm layer.
    final class Layer: @unchecked Sendable {
        let norm1: LayerNorm
        let attention: Attention
        let norm2: LayerNorm
        let fc1: Linear
        let fc2: Linear
        // Kept for backward: the layer's input is the previous layer's `output`.
        let normalised1 = FloatBuffer(count: 0), residual = FloatBuffer(count: 0)
        let normalised2 = FloatBuffer(count: 0), hidden = FloatBuffer(count: 0), activated = FloatBuffer(count: 0)
        let output = FloatBuffer(count: 0)
        let cache1 = LayerNormCache(), cache2 = LayerNormCache()

        init(_ store: ParameterStore, _ name: String, _ config: TextEncoderConfig) {
            let d = config.width
            norm1 = LayerNorm(store, "\(name).layer_norm1", dimension: d)
            attention = Attention(store, "\(name).self_attn", queryDimension: d, heads: config.heads,
                                  headDimension: d / config.heads, causal: true, naming: .clip)
            norm2 = LayerNorm(store, "\(name).layer_norm2", dimension: d)
            fc1 = Linear(store, "\(name).mlp.fc1", inFeatures: d, outFeatures: config.intermediate)
            fc2 = Linear(store, "\(name).mlp.fc2", inFeatures: config.intermediate, outFeatures: d)
        }
    }

    public let config: TextEncoderConfig
    let tokenEmbedding: Embedding
    let positionEmbedding: ParameterSlot
    let layers: [Layer]
    let finalNorm: LayerNorm

    let ids = UnsafeMutableBufferPointerBox()
    let embedded = FloatBuffer(count: 0)          // (N, L, D)
    let finalCache = LayerNormCache()
    /// The last forward's hidden states: (N, L, D).
    public let hiddenStates = FloatBuffer(count: 0)
    var batch = 0

    public init(_ store: ParameterStore, _ config: TextEncoderConfig) {
        precondition(config.width % config.heads == 0, "CLIPTextEncoder: width \(config.width) is not a multiple of \(config.heads) heads")
        self.config = config
        let p = Self.prefix
        tokenEmbedding = Embedding(store, "\(p).embeddings.token_embedding", vocabularySize: config.vocabularySize,
                                   dimension: config.width)
        positionEmbedding = store.add("\(p).embeddings.position_embedding.weight", [config.length, config.width])
        layers = (0..<config.layers).map { Layer(store, "\(p).encoder.layers.\($0)", config) }
        finalNorm = LayerNorm(store, "\(p).final_layer_norm", dimension: config.width)
    }

    /// transformers' `CLIPPreTrainedModel._init_weights` (factor 1): embeddings N(0, 0.02);
    /// q, k, v projections N(0, D^-1/2 (2 layers)^-1/2), the output projection N(0, D^-1/2), fc1
    /// N(0, (2D)^-1/2), fc2 as q; biases 0; layer norms 1 and 0.
    public func initialize(_ store: ParameterStore, _ rng: inout RandomStream) {
        let d = Float(config.width), depth = Float(2 * max(config.layers, 1))
        rng.fillNormal(store.parameters(tokenEmbedding.weight), count: tokenEmbedding.weight.count, scale: 0.02)
        rng.fillNormal(store.parameters(positionEmbedding), count: positionEmbedding.count, scale: 0.02)
        let projectionStd = 1 / d.squareRoot() / depth.squareRoot()
        func normal(_ layer: Linear, _ std: Float) {
            rng.fillNormal(store.parameters(layer.weight), count: layer.weight.count, scale: std)
            if let bias = layer.bias { store.parameters(bias).update(repeating: 0, count: bias.count) }
        }
        for layer in layers {
            layer.norm1.initialize(store)
            normal(layer.attention.toQ, projectionStd)
            normal(layer.attention.toK, projectionStd)
            normal(layer.attention.toV, projectionStd)
            normal(layer.attention.toOut, 1 / d.squareRoot())
            layer.norm2.initialize(store)
            normal(layer.fc1, 1 / (2 * d).squareRoot())
            normal(layer.fc2, projectionStd)
        }
        finalNorm.initialize(store)
    }

    /// tokenIDs: (N, L), each in 0..<V  returns the hidden states (N, L, D), owned by the encoder
    @discardableResult
    public func forward(tokenIDs: UnsafePointer<Int32>, batch n: Int, _ store: ParameterStore,
                        _ ws: Workspace) -> UnsafeMutablePointer<Float> {
        let l = config.length, d = config.width, count = n * l * d, rows = n * l
        batch = n
        let idp = ids.reserve(rows)
        idp.update(from: tokenIDs, count: rows)
        let h0 = embedded.reserve(count)
        tokenEmbedding.forward(idp, h0, n: rows, store)
        let positions = store.parameters(positionEmbedding)
        for i in 0..<n { Elementwise.accumulate(positions, into: h0 + i * l * d, count: l * d, ws) }
        var h = UnsafePointer(h0)
        for layer in layers {
            let n1 = layer.normalised1.reserve(count), r = layer.residual.reserve(count)
            let n2 = layer.normalised2.reserve(count), out = layer.output.reserve(count)
            let hid = layer.hidden.reserve(rows * config.intermediate), act = layer.activated.reserve(rows * config.intermediate)
            layer.norm1.forward(h, n1, rows: rows, cache: layer.cache1, store, ws)
            layer.attention.forward(n1, context: nil, r, batch: n, queries: l, store, ws)
            Elementwise.accumulate(h, into: r, count: count, ws)
            layer.norm2.forward(r, n2, rows: rows, cache: layer.cache2, store, ws)
            layer.fc1.forward(n2, hid, n: rows, store, ws)
            QuickGELU.forward(hid, act, count: rows * config.intermediate, ws)
            layer.fc2.forward(act, out, n: rows, store, ws)
            Elementwise.accumulate(r, into: out, count: count, ws)
            h = UnsafePointer(out)
        }
        let states = hiddenStates.reserve(count)
        finalNorm.forward(h, states, rows: rows, cache: finalCache, store, ws)
        return states
    }

    /// dOut: (N, L, D), the gradient w.r.t. the last forward's hidden states. Adds every
    /// parameter gradient into the store.
    public func backward(_ dOut: UnsafePointer<Float>, _ store: ParameterStore, _ ws: Workspace) {
        let n = batch, l = config.length, d = config.width, count = n * l * d, rows = n * l
        // g: the residual stream's gradient; s: a sub-layer's input gradient; m: the MLP's hidden.
        let g = ws.transformerGradients.0.reserve(count), s = ws.transformerGradients.1.reserve(count)
        let m = ws.feedForwardGradients.0.reserve(rows * config.intermediate)
        g.update(repeating: 0, count: count)
        finalNorm.backward(dOut: dOut, x: layers.last?.output.pointer ?? embedded.pointer, dx: g, rows: rows,
                           cache: finalCache, store, ws)
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[i], input = i == 0 ? embedded.pointer : layers[i - 1].output.pointer
            m.update(repeating: 0, count: rows * config.intermediate)
            layer.fc2.backward(dOut: g, x: layer.activated.pointer, dx: m, n: rows, store, ws)
            let dHidden = ws.feedForwardGradients.1.reserve(rows * config.intermediate)
            dHidden.update(repeating: 0, count: rows * config.intermediate)
            QuickGELU.backward(dOut: m, x: layer.hidden.pointer, dx: dHidden, count: rows * config.intermediate, ws)
            s.update(repeating: 0, count: count)
            layer.fc1.backward(dOut: dHidden, x: layer.normalised2.pointer, dx: s, n: rows, store, ws)
            layer.norm2.backward(dOut: s, x: layer.residual.pointer, dx: g, rows: rows, cache: layer.cache2, store, ws)
            s.update(repeating: 0, count: count)
            layer.attention.backward(dOut: g, x: layer.normalised1.pointer, context: nil, dx: s, dContext: nil, store, ws)
            layer.norm1.backward(dOut: s, x: input, dx: g, rows: rows, cache: layer.cache1, store, ws)
        }
        // g is now d(embedded): the token rows scatter, the positions sum over the batch.
        tokenEmbedding.backward(dOut: g, ids: ids.pointer, n: rows, store)
        let dPositions = store.gradient(positionEmbedding)
        for i in 0..<n { Elementwise.accumulate(g + i * l * d, into: dPositions, count: l * d, ws) }
    }
}
