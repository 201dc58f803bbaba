import XCTest
import DDECore

/// `dde-train bench` on a toy model: every part runs, and once the first steps have sized the
/// grow-only buffers, a training step or sampling run allocates no tensor memory (issue 5's
/// "no allocation inside the training loop"; the timings themselves are benchmarks, not tests).
final class TrainingBenchTests: XCTestCase {
    func testEveryPartRunsWithoutTensorAllocationsAfterWarmUp() throws {
        let config = try ConfigLoader.load(file: nil, overrides: [
            "threads=2", "block_out_channels=16,32", "layers_per_block=1", "norm_num_groups=8", "sample_size=8",
            "pretrain.batch=12", "batch=6", "bench.warmup=1", "bench.repeats=3", "sample.steps=3",
            "bench.sample_images=5", "bench.sample_repeats=1",
        ])
        let parts = TrainingBench.Part.defaults(for: .unet2D)
        XCTAssertFalse(parts.contains(.loraDPO), "the attention-free network has no projections to adapt")
        let figures = try TrainingBench(settings: try RunSettings(config)).run(parts)
        for part in parts {
            let timing = try XCTUnwrap(figures.timings[part], "\(part)")
            XCTAssertTrue(timing.median > 0 && timing.median.isFinite, "\(part)")
            XCTAssertEqual(figures.allocationsPerStep[part], 0, "\(part): tensor allocations per step")
        }
        XCTAssertGreaterThan(figures.pretrainFLOPs, 0)
        XCTAssertEqual(figures.sampleImages, 5)
        XCTAssertNotNil(figures.pretrainProfile)
    }

    /// The cross-attention network's full and LoRA DPO steps (issue 16), allocation-free after warm-up too.
    func testTheLoRAStepRunsWithoutTensorAllocationsAfterWarmUp() throws {
        let config = try ConfigLoader.load(file: nil, overrides: [
            "threads=2", "model.class=UNet2DConditionModel", "block_out_channels=16,32", "norm_num_groups=8", "sample_size=8",
            "cross_attention_dim=16", "attention_head_dim=2", "text_encoder.layers=1", "text_encoder.heads=2", "batch=6",
            "bench.warmup=1", "bench.repeats=3",
        ])
        XCTAssertEqual(TrainingBench.Part.defaults(for: .unet2DCondition), TrainingBench.Part.allCases)
        let figures = try TrainingBench(settings: try RunSettings(config)).run([.dpo, .loraDPO])
        for part in [TrainingBench.Part.dpo, .loraDPO] {
            XCTAssertNotNil(figures.timings[part], "\(part)")
            XCTAssertEqual(figures.allocationsPerStep[part], 0, "\(part): tensor allocations per step")
        }
    }
}
