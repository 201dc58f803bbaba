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
    static func architecture(of file: SafeTensorsReader) throws -> (unet: UNetConfig, tokenizer: Tokenizer, encoderDimension: Int) {
        func fail(_ what: String) -> SafeTensorsError { SafeTensorsError(file.name, "metadata \(what) (a damaged or foreign file?)") }
        let meta = file.metadata, decoder = JSONDecoder()
        guard let unetText = meta["unet_config"], let unet = try? decoder.decode(UNetConfig.self, from: Data(unetText.utf8)),
              let tokText = meta["tokenizer"], let words = try? decoder.decode(TokenizerFields.self, from: Data(tokText.utf8)),
              let dimText = meta["encoder_dim"], let dim = Int(dimText) else {
            throw fail("lacks a readable unet_config, tokenizer or encoder_dim")
        }
        let checks: [(String, String, ConfigValue)] = [
            ("unet_config", "block_out_channels", .intList(unet.blockOutChannels)), ("unet_config", "layers_per_block", .int(unet.layersPerBlock)),
            ("unet_config", "norm_num_groups", .int(unet.normNumGroups)), ("unet_config", "sample_size", .int(unet.sampleSize)),
            ("encoder_dim", "encoder.dim", .int(dim)), ("tokenizer", "encoder.max_tokens", .int(words.maxTokens)),
        ]
        for (field, key, value) in checks {
            do { try ConfigKeys.key(key)!.validate(value) } catch let error as ConfigError { throw fail("\(field): \(error.message)") }
        }
        let channels = unet.blockOutChannels, groups = unet.normNumGroups
        guard unet.inChannels == 3, unet.outChannels == 3 else {
            throw fail("unet_config: \(unet.inChannels) input and \(unet.outChannels) output channels, expected 3 (RGB)")
        }
        if let bad = channels.first(where: { $0 % groups != 0 }) {
            throw fail("unet_config: norm_num_groups \(groups) does not divide block_out_channels entry \(bad)")
        }
        if unet.sampleSize % (1 << (channels.count - 1)) != 0 {
            throw fail("unet_config: sample_size \(unet.sampleSize) is not a multiple of 2^\(channels.count - 1) for \(channels.count) levels")
        }
        guard words.words.count >= 2, words.words[0] == "<pad>", words.words[1] == "<unk>" else {
            throw fail("tokenizer: the vocabulary does not start with <pad>, <unk>")
        }
        // Each level has a C -> C 3x3 convolution (9 C^2 weights) and the prompt encoder a
        // vocabulary x width embedding; more weights than the file holds values is not this file.
        let values = file.tensors.reduce(0) { $0 + $1.count }
        if let c = channels.first(where: { $0 > values / 9 / $0 }) {
            throw fail("unet_config: \(c) channels need more weights than the file's \(values) values")
        }
        if words.words.count > values / dim {
            throw fail("tokenizer: \(words.words.count) words x \(dim) need more weights than the file's \(values) values")
        }
        return (unet, Tokenizer(words: words.words, maxTokens: words.maxTokens), dim)
    }

    /// `Tokenizer`'s stored fields, decoded without its initializer's precondition so a damaged
    /// vocabulary is an error rather than a trap.
    private struct TokenizerFields: Decodable {
        let words: [String]
        let maxTokens: Int
        enum CodingKeys: String, CodingKey { case words, maxTokens = "max_tokens" }
    }
}
