import Foundation

extension Checkpoint {
    /// The model a file's metadata describes (`unet_config`, `tokenizer`, `encoder_dim`),
    /// checked before anything is allocated: a damaged or foreign file is a one-line error, never
    /// a model of absurd size or one the layers' preconditions stop.
    ///
    /// The bounds are the config table's (`block_out_channels`, `layers_per_block`,
    /// `norm_num_groups`, `sample_size`, `encoder.dim`, `encoder.max_tokens`) and the checks
    /// between keys the U-Net relies on. The table has no upper bound on channels or vocabulary,
    /// so those are held to the file itself: every weight of the model is a value stored in it.
    static func architecture(of file: SafeTensorsReader) throws -> (architecture: ModelArchitecture, tokenizer: Tokenizer) {
        switch file.metadata["model_class"] {
        case nil, "UNet2DModel": return try unet2DArchitecture(of: file)
        case "UNet2DConditionModel": return try unet2DConditionArchitecture(of: file)
        case let other?:
            throw SafeTensorsError(file.name, "metadata model_class '\(other)' is not one dde-train builds (UNet2DModel, UNet2DConditionModel)")
        }
    }

    static func unet2DArchitecture(of file: SafeTensorsReader) throws -> (architecture: ModelArchitecture, tokenizer: Tokenizer) {
        let check = MetadataChecks(file: file), fail = check.fail
        let meta = file.metadata, decoder = JSONDecoder()
        guard let unetText = meta["unet_config"], let unet = try? decoder.decode(UNetConfig.self, from: Data(unetText.utf8)),
              let tokText = meta["tokenizer"], let words = try? decoder.decode(TokenizerFields.self, from: Data(tokText.utf8)),
              let dimText = meta["encoder_dim"], let dim = Int(dimText) else {
            throw fail("lacks a readable unet_config, tokenizer or encoder_dim")
        }
        try check.againstKeyTable([
            ("unet_config", "block_out_channels", .intList(unet.blockOutChannels)), ("unet_config", "layers_per_block", .int(unet.layersPerBlock)),
            ("unet_config", "norm_num_groups", .int(unet.normNumGroups)), ("unet_config", "sample_size", .int(unet.sampleSize)),
            ("encoder_dim", "encoder.dim", .int(dim)), ("tokenizer", "encoder.max_tokens", .int(words.maxTokens)),
        ])
        let channels = unet.blockOutChannels, groups = unet.normNumGroups
        try check.rgb(inChannels: unet.inChannels, outChannels: unet.outChannels)
        if let bad = channels.first(where: { $0 % groups != 0 }) {
            throw fail("unet_config: norm_num_groups \(groups) does not divide block_out_channels entry \(bad)")
        }
        if unet.sampleSize % (1 << (channels.count - 1)) != 0 {
            throw fail("unet_config: sample_size \(unet.sampleSize) is not a multiple of 2^\(channels.count - 1) for \(channels.count) levels")
        }
        try check.vocabulary(words)
        // The prompt encoder has a vocabulary x width embedding.
        try check.channelsFit(channels)
        let values = check.storedValues
        if words.words.count > values / dim {
            throw fail("tokenizer: \(words.words.count) words x \(dim) need more weights than the file's \(values) values")
        }
        return (.unet2D(unet, encoderDimension: dim), Tokenizer(words: words.words, maxTokens: words.maxTokens))
    }

    /// The cross-attention model's metadata (`unet_config`, `text_encoder_config`, `tokenizer`),
    /// held to the same rules: the config table's bounds, the shape's own consistency, and no
    /// more weights than the file stores.
    static func unet2DConditionArchitecture(of file: SafeTensorsReader) throws -> (architecture: ModelArchitecture, tokenizer: Tokenizer) {
        let check = MetadataChecks(file: file), fail = check.fail
        let meta = file.metadata, decoder = JSONDecoder()
        guard let unetText = meta["unet_config"], let unet = try? decoder.decode(UNet2DConditionConfig.self, from: Data(unetText.utf8)),
              let textText = meta["text_encoder_config"], let text = try? decoder.decode(TextEncoderConfig.self, from: Data(textText.utf8)),
              let tokText = meta["tokenizer"], let words = try? decoder.decode(TokenizerFields.self, from: Data(tokText.utf8)) else {
            throw fail("lacks a readable unet_config, text_encoder_config or tokenizer")
        }
        try check.againstKeyTable([
            ("unet_config", "block_out_channels", .intList(unet.blockOutChannels)), ("unet_config", "layers_per_block", .int(unet.layersPerBlock)),
            ("unet_config", "norm_num_groups", .int(unet.normNumGroups)), ("unet_config", "sample_size", .int(unet.sampleSize)),
            ("unet_config", "cross_attention_dim", .int(unet.crossAttentionDim)),
            ("text_encoder_config", "text_encoder.layers", .int(text.layers)), ("text_encoder_config", "text_encoder.heads", .int(text.heads)),
            ("text_encoder_config", "text_encoder.length", .int(text.length)),
        ])
        if let problem = unet.problem { throw fail("unet_config: \(problem)") }
        try check.rgb(inChannels: unet.inChannels, outChannels: unet.outChannels)
        try check.vocabulary(words)
        guard text.vocabularySize == words.words.count, text.length == words.maxTokens, text.width == unet.crossAttentionDim,
              text.width % text.heads == 0, text.intermediate > 0 else {
            throw fail("text_encoder_config: vocabulary, length, width or heads disagree with the tokenizer and cross_attention_dim")
        }
        try check.channelsFit(unet.blockOutChannels)
        let values = check.storedValues
        if words.words.count > values / text.width || text.intermediate > values / text.width {
            throw fail("text_encoder_config: \(words.words.count) words x \(text.width) need more weights than the file's \(values) values")
        }
        return (.unet2DCondition(unet, textEncoder: text), Tokenizer(words: words.words, maxTokens: words.maxTokens))
    }

    /// The checks both architectures' metadata take, each a one-line error naming the file.
    private struct MetadataChecks {
        let file: SafeTensorsReader

        func fail(_ what: String) -> SafeTensorsError { SafeTensorsError(file.name, "metadata \(what) (a damaged or foreign file?)") }

        /// Each (metadata field, config key, value) within the key table's bounds.
        func againstKeyTable(_ checks: [(field: String, key: String, value: ConfigValue)]) throws {
            for (field, key, value) in checks {
                do { try ConfigKeys.key(key)!.validate(value) } catch let error as ConfigError { throw fail("\(field): \(error.message)") }
            }
        }

        func rgb(inChannels: Int, outChannels: Int) throws {
            guard inChannels == 3, outChannels == 3 else {
                throw fail("unet_config: \(inChannels) input and \(outChannels) output channels, expected 3 (RGB)")
            }
        }

        func vocabulary(_ words: TokenizerFields) throws {
            guard words.words.count >= 2, words.words[0] == "<pad>", words.words[1] == "<unk>" else {
                throw fail("tokenizer: the vocabulary does not start with <pad>, <unk>")
            }
        }

        /// The values the file stores, over all its tensors.
        var storedValues: Int { file.tensors.reduce(0) { $0 + $1.count } }

        /// Each level has a C -> C 3x3 convolution (9 C^2 weights); more weights than the file
        /// holds values is not this file.
        func channelsFit(_ channels: [Int]) throws {
            let values = storedValues
            if let c = channels.first(where: { $0 > values / 9 / $0 }) {
                throw fail("unet_config: \(c) channels need more weights than the file's \(values) values")
            }
        }
    }

    /// `Tokenizer`'s stored fields, decoded without its initializer's precondition so a damaged
    /// vocabulary is an error rather than a trap.
    private struct TokenizerFields: Decodable {
        let words: [String]
        let maxTokens: Int
        enum CodingKeys: String, CodingKey { case words, maxTokens = "max_tokens" }
    }
}
