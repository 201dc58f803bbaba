import Foundation

/// diffusers' `UNet2DConditionModel` `config.json`, read and written: the keys this project's
/// `UNet2DConditionConfig` covers, with diffusers' names, defaults and quirks
/// (`attention_head_dim` is the number of heads unless `num_attention_heads` is set; an int
/// stands for every level), and the keys that must hold diffusers' default for the network to be
/// the Stable Diffusion family this project builds (`addition_embed_type = text_time` is SDXL's
/// added conditioning, which is not).
public enum DiffusersUNetConfig {
    /// A required value of a fixed key.
    enum Required: Sendable {
        case null, text(String), flag(Bool), number(Double)

        var json: Any {
            switch self {
            case .null: NSNull()
            case .text(let s): s
            case .flag(let b): b
            case .number(let d): d == d.rounded() ? Int(d) as Any : d
            }
        }
    }

    /// Keys whose value must be the given one; absent keys take diffusers' default, which is
    /// the given value.
    static let fixed: [(key: String, value: Required)] = [
        ("act_fn", .text("silu")), ("addition_embed_type", .null), ("addition_time_embed_dim", .null),
        ("attention_type", .text("default")), ("center_input_sample", .flag(false)), ("class_embed_type", .null),
        ("class_embeddings_concat", .flag(false)), ("conv_in_kernel", .number(3)), ("conv_out_kernel", .number(3)),
        ("cross_attention_norm", .null), ("downsample_padding", .number(1)), ("dual_cross_attention", .flag(false)),
        ("encoder_hid_dim", .null), ("encoder_hid_dim_type", .null), ("mid_block_only_cross_attention", .null),
        ("mid_block_scale_factor", .number(1)), ("num_class_embeds", .null), ("only_cross_attention", .flag(false)),
        ("projection_class_embeddings_input_dim", .null), ("resnet_out_scale_factor", .number(1)),
        ("resnet_skip_time_act", .flag(false)), ("resnet_time_scale_shift", .text("default")),
        ("reverse_transformer_layers_per_block", .null), ("time_cond_proj_dim", .null), ("time_embedding_act_fn", .null),
        ("time_embedding_dim", .null), ("time_embedding_type", .text("positional")), ("timestep_post_act", .null),
        ("mid_block_type", .text("UNetMidBlock2DCrossAttn")), ("dropout", .number(0)),
    ]

    /// The `config.json` object for `config` (diffusers writes the same keys from `__init__`).
    public static func json(_ config: UNet2DConditionConfig) -> [String: Any] {
        var object: [String: Any] = [
            "_class_name": "UNet2DConditionModel",
            "_diffusers_version": "0.30.0",
            "down_block_types": config.downBlockTypes.map(\.rawValue),
            "up_block_types": config.upBlockTypes.map(\.rawValue),
            "block_out_channels": config.blockOutChannels,
            "layers_per_block": config.layersPerBlock,
            "norm_num_groups": config.normNumGroups,
            "norm_eps": Double(config.normEps),
            "cross_attention_dim": config.crossAttentionDim,
            // The number of heads per level, under diffusers' name for it in this class
            // (num_attention_heads set is refused by diffusers' own constructor).
            "attention_head_dim": config.attentionHeads,
            "num_attention_heads": NSNull(),
            "transformer_layers_per_block": config.transformerLayersPerBlock,
            "use_linear_projection": config.useLinearProjection,
            "flip_sin_to_cos": config.flipSinToCos,
            "freq_shift": config.freqShift,
            "in_channels": config.inChannels,
            "out_channels": config.outChannels,
            "sample_size": config.sampleSize,
            "upcast_attention": false,
            "addition_embed_type_num_heads": 64,
        ]
        for (key, value) in fixed { object[key] = value.json }
        return object
    }

    /// The shape a `config.json` describes, or a `ConfigError` (exit 64) naming the first key
    /// outside the supported family with its value. `sampleSize` stands in when the file has none (null).
    public static func decode(_ object: [String: Any], file: String, sampleSize fallback: Int? = nil) throws -> UNet2DConditionConfig {
        func fail(_ key: String, _ value: Any?, _ why: String) -> ConfigError {
            ConfigError(at: file, "\(key) = \(render(value)): \(why)")
        }
        if let name = object["_class_name"] as? String, name != "UNet2DConditionModel" {
            throw fail("_class_name", name, "not a UNet2DConditionModel")
        }
        for (key, expected) in fixed {
            let value = object[key]
            if !same(value, expected) && !(key == "only_cross_attention" && allFalse(value)) {
                throw fail(key, value, "outside the Stable Diffusion family dde-train builds (it needs \(render(expected.json)))")
            }
        }
        func int(_ key: String, _ defaultValue: Int) throws -> Int {
            guard let value = object[key], !(value is NSNull) else { return defaultValue }
            guard let n = integer(value) else { throw fail(key, value, "expected an integer") }
            return n
        }
        func ints(_ key: String, _ defaultValue: [Int]?, levels: Int) throws -> [Int]? {
            guard let value = object[key], !(value is NSNull) else { return defaultValue }
            if let n = integer(value) { return Array(repeating: n, count: levels) }
            guard let list = value as? [Any], let values = Optional(list.compactMap(integer)), values.count == list.count else {
                throw fail(key, value, "expected an integer or a list of integers")
            }
            return values
        }
        func strings(_ key: String, _ defaultValue: [String]) throws -> [String] {
            guard let value = object[key], !(value is NSNull) else { return defaultValue }
            guard let list = value as? [String] else { throw fail(key, value, "expected a list of block names") }
            return list
        }
        let channels = try ints("block_out_channels", [320, 640, 1280, 1280], levels: 1)!
        let levels = channels.count
        let downNames = try strings("down_block_types", ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"])
        let upNames = try strings("up_block_types", ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"])
        let down = try downNames.map { name in
            try UNet2DConditionConfig.DownBlock(rawValue: name) ?? { throw fail("down_block_types", downNames, "\(name) is not CrossAttnDownBlock2D or DownBlock2D") }()
        }
        let up = try upNames.map { name in
            try UNet2DConditionConfig.UpBlock(rawValue: name) ?? { throw fail("up_block_types", upNames, "\(name) is not UpBlock2D or CrossAttnUpBlock2D") }()
        }
        let layers = try ints("layers_per_block", [2], levels: 1)!
        guard Set(layers).count == 1 else { throw fail("layers_per_block", object["layers_per_block"], "one value for every level is supported") }
        if let value = object["cross_attention_dim"], value is [Any] {
            throw fail("cross_attention_dim", value, "one width for every level is supported")
        }
        let heads = UNet2DConditionConfig.resolvedHeads(
            numAttentionHeads: try ints("num_attention_heads", nil, levels: levels),
            attentionHeadDim: try ints("attention_head_dim", Array(repeating: 8, count: levels), levels: levels)!)
        let transformerLayers = try ints("transformer_layers_per_block", Array(repeating: 1, count: levels), levels: levels)!
        if let value = object["transformer_layers_per_block"] as? [Any], value.contains(where: { $0 is [Any] }) {
            throw fail("transformer_layers_per_block", value, "per-resnet lists are not supported")
        }
        let sample = object["sample_size"].flatMap(integer) ?? fallback
        guard let sampleSize = sample else { throw fail("sample_size", object["sample_size"], "expected an integer") }
        let config = UNet2DConditionConfig(
            downBlockTypes: down, upBlockTypes: up, blockOutChannels: channels, layersPerBlock: layers[0],
            normNumGroups: try int("norm_num_groups", 32), normEps: Float(double(object["norm_eps"]) ?? 1e-5),
            crossAttentionDim: try int("cross_attention_dim", 1280), attentionHeads: heads, transformerLayersPerBlock: transformerLayers,
            useLinearProjection: (object["use_linear_projection"] as? Bool) ?? false,
            flipSinToCos: (object["flip_sin_to_cos"] as? Bool) ?? true, freqShift: try int("freq_shift", 0),
            inChannels: try int("in_channels", 4), outChannels: try int("out_channels", 4), sampleSize: sampleSize)
        if let problem = config.problem { throw ConfigError(at: file, problem) }
        return config
    }

    static func integer(_ value: Any) -> Int? {
        if let n = value as? Int { return n }
        if let d = value as? Double, d == d.rounded(), abs(d) < 1e9 { return Int(d) }
        return nil
    }

    static func double(_ value: Any?) -> Double? {
        if let d = value as? Double { return d }
        if let n = value as? Int { return Double(n) }
        return nil
    }

    /// A config value equals the required one (null or absent: diffusers' default, which is the
    /// required value; numbers by value).
    static func same(_ value: Any?, _ expected: Required) -> Bool {
        guard let value, !(value is NSNull) else { return true }
        switch expected {
        case .null: return false
        case .text(let s): return value as? String == s
        case .flag(let b): return (value as? Bool) == b
        case .number(let n): return double(value) == n
        }
    }

    static func allFalse(_ value: Any?) -> Bool {
        guard let list = value as? [Any] else { return false }
        return list.allSatisfy { ($0 as? Bool) == false }
    }

    static func render(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "null" }
        if let s = value as? String { return s }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}
