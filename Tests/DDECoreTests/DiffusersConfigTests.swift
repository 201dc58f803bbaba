import Foundation
import XCTest
import DDECore

/// diffusers' `UNet2DConditionModel` config.json as `DiffusersUNetConfig` reads and writes it:
/// Stable Diffusion 1.5's published config with its quirk (`attention_head_dim = 8` is eight
/// heads per level), a round trip, and the one-line refusals of configs outside the family.
final class DiffusersConfigTests: XCTestCase {
    /// runwayml/stable-diffusion-v1-5 unet/config.json (diffusers 0.6.0), as published.
    static let sd15 = """
    {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.6.0", "act_fn": "silu", "attention_head_dim": 8,
     "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 768,
     "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
     "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
     "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
     "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
    """

    func object(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func testStableDiffusion15ConfigReadsWithDiffusersMeanings() throws {
        let config = try DiffusersUNetConfig.decode(try object(Self.sd15), file: "sd15/config.json")
        XCTAssertEqual(config.attentionHeads, [8, 8, 8, 8], "attention_head_dim is the number of heads in this class")
        XCTAssertEqual(config.transformerLayersPerBlock, [1, 1, 1, 1], "absent: diffusers' default 1")
        XCTAssertEqual(config.downBlockTypes, [.crossAttention, .crossAttention, .crossAttention, .plain])
        XCTAssertEqual(config.upBlockTypes, [.plain, .crossAttention, .crossAttention, .crossAttention])
        XCTAssertEqual(config.crossAttentionDim, 768)
        XCTAssertEqual(config.layersPerBlock, 2)
        XCTAssertEqual(config.inChannels, 4)
        XCTAssertFalse(config.useLinearProjection)
        XCTAssertNil(config.problem)
    }

    func testWrittenConfigReadsBackAndHeadsPrecedence() throws {
        let config = UNet2DConditionConfig(downBlockTypes: [.plain, .crossAttention], upBlockTypes: [.crossAttention, .plain],
                                           blockOutChannels: [16, 32], layersPerBlock: 2, normNumGroups: 8, normEps: 1e-6,
                                           crossAttentionDim: 24, attentionHeads: [2, 8], transformerLayersPerBlock: [1, 3],
                                           useLinearProjection: true, flipSinToCos: false, freqShift: 1, sampleSize: 16)
        let written = try JSONSerialization.data(withJSONObject: DiffusersUNetConfig.json(config))
        let read = try DiffusersUNetConfig.decode(try XCTUnwrap(try JSONSerialization.jsonObject(with: written) as? [String: Any]),
                                                  file: "x")
        XCTAssertEqual(read, config)
        var withHeads = try object(Self.sd15)
        withHeads["num_attention_heads"] = [4, 4, 8, 8]
        XCTAssertEqual(try DiffusersUNetConfig.decode(withHeads, file: "x").attentionHeads, [4, 4, 8, 8],
                       "num_attention_heads, when set, wins over attention_head_dim")
    }

    func testConfigsOutsideTheFamilyAreOneLineNamingTheKey() throws {
        for (key, value, expected) in [
            ("addition_embed_type", "text_time" as Any, "sdxl/config.json: addition_embed_type = text_time: outside the Stable Diffusion family"),
            ("class_embed_type", "timestep", "sdxl/config.json: class_embed_type = timestep: outside"),
            ("mid_block_type", "UNetMidBlock2DSimpleCrossAttn", "sdxl/config.json: mid_block_type = UNetMidBlock2DSimpleCrossAttn: outside"),
            ("down_block_types", ["CrossAttnDownBlock2D", "SimpleCrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
             "sdxl/config.json: down_block_types = "),
        ] {
            var config = try object(Self.sd15)
            config[key] = value
            XCTAssertThrowsError(try DiffusersUNetConfig.decode(config, file: "sdxl/config.json")) { error in
                let text = "\(error)"
                XCTAssertTrue(error is ConfigError, "\(key): a ConfigError (exit 64)")
                XCTAssertTrue(text.hasPrefix(expected), "\(key): \(text)")
                XCTAssertFalse(text.contains("\n"), "one line")
            }
        }
    }
}
