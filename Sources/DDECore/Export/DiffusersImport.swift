import Foundation

/// `checkpoint = diffusers:DIR` and `base = diffusers:DIR`: a diffusers `UNet2DConditionModel`
/// read into this project's network. DIR is the model's own folder (`config.json` and
/// `diffusion_pytorch_model.safetensors`) or a pipeline-style folder holding `unet/` and,
/// optionally, `text_encoder/` (transformers' `CLIPTextModel`) with `tokenizer/dde_tokenizer.json`
/// (the word-level vocabulary `dde-train export` writes). Weights in F32, F16 or BF16 (widened
/// exactly). A config outside the supported family is one line naming the key and its value.
public enum DiffusersImport {
    public static let prefix = "diffusers:"

    /// The folders of an import.
    struct Folders {
        let unet: String
        let textEncoder: String?
        let tokenizer: String?
    }

    static func folders(_ dir: String) throws -> Folders {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/config.json") {
            return Folders(unet: dir, textEncoder: nil, tokenizer: nil)
        }
        guard fm.fileExists(atPath: dir + "/unet/config.json") else {
            throw TrainingError("\(prefix)\(dir): neither config.json (a UNet2DConditionModel folder) nor unet/config.json (a pipeline folder) is there")
        }
        let text = dir + "/text_encoder", tokenizer = dir + "/tokenizer/dde_tokenizer.json"
        return Folders(unet: dir + "/unet", textEncoder: fm.fileExists(atPath: text + "/config.json") ? text : nil,
                       tokenizer: fm.fileExists(atPath: tokenizer) ? tokenizer : nil)
    }

    /// The U-Net alone (what `dde-train forward` needs), built for inputs `sampleSize` wide
    /// (the network is the same at any size; diffusers' `sample_size` is only a default).
    public static func unet(_ dir: String, workspace: Workspace, sampleSize: Int) throws -> (UNet2DConditionModel, SafeTensorsReader) {
        let folders = try folders(dir)
        var config = try unetConfig(folders, sampleSize: sampleSize)
        config.sampleSize = sampleSize
        if let problem = config.problem { throw TrainingError("\(prefix)\(dir): the inputs' \(problem)") }
        let store = ParameterStore()
        let unet = UNet2DConditionModel(config, store: store, workspace: workspace)
        store.seal()
        let file = try SafeTensorsReader(contentsOf: try weights(folders.unet, unetWeights))
        try store.load(from: file)
        return (unet, file)
    }

    /// The whole text-to-image model: the U-Net, the text encoder and the word-level tokenizer
    /// of a `dde-train export` (another tokenizer's text encoder cannot be driven by it).
    public static func model(_ dir: String, workspace: Workspace) throws -> (model: TextToImageModel, file: SafeTensorsReader) {
        let folders = try folders(dir)
        guard let textFolder = folders.textEncoder, let tokenizerFile = folders.tokenizer else {
            throw TrainingError("\(prefix)\(dir): a model to sample or train needs text_encoder/ and tokenizer/dde_tokenizer.json beside unet/ (as dde-train export writes them); for the U-Net alone use dde-train forward")
        }
        let unetConfig = try unetConfig(folders)
        guard unetConfig.inChannels == 3, unetConfig.outChannels == 3 else {
            throw TrainingError("\(folders.unet)/config.json: in_channels = \(unetConfig.inChannels), out_channels = \(unetConfig.outChannels): dde-train samples and trains RGB pixel models (3 and 3); dde-train forward runs any U-Net")
        }
        let tokenizer = try readTokenizer(tokenizerFile)
        let text = try textEncoderConfig(try readJSON(textFolder + "/config.json"), file: textFolder + "/config.json")
        guard text.vocabularySize == tokenizer.vocabularySize, text.length == tokenizer.maxTokens else {
            throw TrainingError("\(textFolder)/config.json: vocab_size \(text.vocabularySize) and max_position_embeddings \(text.length) differ from \(tokenizerFile)'s \(tokenizer.vocabularySize) words and \(tokenizer.maxTokens) tokens")
        }
        guard text.width == unetConfig.crossAttentionDim else {
            throw TrainingError("\(textFolder)/config.json: hidden_size = \(text.width) differs from the U-Net's cross_attention_dim \(unetConfig.crossAttentionDim)")
        }
        let model = TextToImageModel(.unet2DCondition(unetConfig, textEncoder: text), tokenizer: tokenizer, workspace: workspace)
        let unetFile = try SafeTensorsReader(contentsOf: try weights(folders.unet, unetWeights))
        let textFile = try SafeTensorsReader(contentsOf: try weights(textFolder, ["model.safetensors", "model.fp16.safetensors"]))
        let textPrefix = "text_encoder."
        try model.store.load(from: unetFile, only: { !$0.name.hasPrefix(textPrefix) })
        // transformers' older files also keep the position ids as a buffer.
        try model.store.load(from: textFile, allowExtra: { $0 == "text_model.embeddings.position_ids" },
                             only: { $0.name.hasPrefix(textPrefix) }, fileName: { String($0.dropFirst(textPrefix.count)) })
        return (model, unetFile)
    }

    /// The U-Net's weight files, in the order looked for (the plain file, else the fp16 variant).
    static let unetWeights = ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"]

    static func unetConfig(_ folders: Folders, sampleSize: Int? = nil) throws -> UNet2DConditionConfig {
        let path = folders.unet + "/config.json"
        return try DiffusersUNetConfig.decode(try readJSON(path), file: path, sampleSize: sampleSize)
    }

    /// transformers' `CLIPTextConfig` as this project's text encoder, or an error naming the key.
    static func textEncoderConfig(_ object: [String: Any], file: String) throws -> TextEncoderConfig {
        func int(_ key: String) throws -> Int {
            guard let value = object[key], let n = DiffusersUNetConfig.integer(value), n > 0 else {
                throw ConfigError(at: file, "\(key) = \(DiffusersUNetConfig.render(object[key])): expected a positive integer")
            }
            return n
        }
        if let act = object["hidden_act"] as? String, act != "quick_gelu" {
            throw ConfigError(at: file, "hidden_act = \(act): dde-train's text encoder is CLIP's quick_gelu")
        }
        if let eps = DiffusersUNetConfig.double(object["layer_norm_eps"]), abs(eps - 1e-5) > 1e-12 {
            throw ConfigError(at: file, "layer_norm_eps = \(eps): dde-train's text encoder uses 1e-5")
        }
        let config = TextEncoderConfig(vocabularySize: try int("vocab_size"), width: try int("hidden_size"), layers: try int("num_hidden_layers"),
                                       heads: try int("num_attention_heads"), intermediate: try int("intermediate_size"),
                                       length: try int("max_position_embeddings"))
        guard config.width % config.heads == 0 else {
            throw ConfigError(at: file, "num_attention_heads = \(config.heads) does not divide hidden_size = \(config.width)")
        }
        return config
    }

    static func readTokenizer(_ path: String) throws -> Tokenizer {
        let object = try readJSON(path)
        guard let words = object["words"] as? [String], let maxTokens = object["max_tokens"].flatMap(DiffusersUNetConfig.integer),
              words.count >= 2, words[0] == "<pad>", words[1] == "<unk>", maxTokens > 0 else {
            throw TrainingError("\(path): expected words (starting <pad>, <unk>) and max_tokens, as dde-train export writes them")
        }
        return Tokenizer(words: words, maxTokens: maxTokens)
    }

    static func weights(_ folder: String, _ names: [String]) throws -> String {
        for name in names where FileManager.default.fileExists(atPath: folder + "/" + name) { return folder + "/" + name }
        throw TrainingError("\(folder): no \(names.joined(separator: " or ")) (only safetensors weights are read)")
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError("\(path): cannot be read") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingError("\(path): not a JSON object")
        }
        return object
    }
}
