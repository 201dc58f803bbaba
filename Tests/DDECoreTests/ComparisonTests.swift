import XCTest
import DDECore

final class ComparisonTests: XCTestCase {
    /// Hand case: 2 prompts x 2 images. Tuned beats base on 3 of 4 twins and ties on 1.
    func testPairedComparisonByHand() {
        let base: [Double] = [0.5, 0.5, 0.4, 0.6]
        let tuned: [Double] = [0.6, 0.5, 0.5, 0.7]
        let c = PairedComparison(tuned: tuned, base: base, perPrompt: 2, resamples: 500, seed: 1)
        XCTAssertEqual(c.mean, 0.575, accuracy: 1e-12)
        XCTAssertEqual(c.changePercent, 100 * (0.575 - 0.5) / 0.5, accuracy: 1e-9)
        XCTAssertEqual(c.beatRatio, (0.75 + 1.0) / 2, accuracy: 1e-12, "prompt 1: one win, one tie; prompt 2: two wins")
        XCTAssertEqual(c.ties, 0.25)
        XCTAssertLessThanOrEqual(c.changeInterval.low, c.changePercent)
        XCTAssertGreaterThanOrEqual(c.changeInterval.high, c.changePercent)
        XCTAssertGreaterThan(c.changeInterval.low, 0, "every prompt improved: the interval excludes zero")
    }

    func testIdenticalModelsTieEverywhere() {
        let scores: [Double] = (0..<40).map { Double($0 % 7) / 7 + 0.1 }
        let c = PairedComparison(tuned: scores, base: scores, perPrompt: 4, resamples: 300, seed: 2)
        XCTAssertEqual(c.changePercent, 0)
        XCTAssertEqual(c.changeInterval.low, 0)
        XCTAssertEqual(c.changeInterval.high, 0)
        XCTAssertEqual(c.beatRatio, 0.5)
        XCTAssertEqual(c.ties, 1)
    }

    /// configs/sdxl.conf (the Table 3 analog: the SDXL-like cross-attention network at 32,64, 150
    /// fine-tune steps, Uniform, Discounted, DDE) runs end to end when its sizes are overridden
    /// down to toy scale.
    func testSdxlPresetRunsEndToEndAtToySize() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = root.appendingPathComponent("configs/sdxl.conf").path
        let preset = try ConfigLoader.load(file: file, overrides: [])
        XCTAssertEqual(preset.intList("block_out_channels"), [32, 64])
        XCTAssertEqual(preset.string("model.class"), "UNet2DConditionModel")
        XCTAssertEqual(preset.stringList("down_block_types"), ["DownBlock2D", "CrossAttnDownBlock2D"], "no attention at the highest resolution")
        XCTAssertEqual(preset.intList("transformer_layers_per_block"), [1, 2])
        XCTAssertTrue(preset.bool("use_linear_projection"))
        XCTAssertEqual(preset.int("steps"), 150)
        XCTAssertEqual(preset.stringList("compare.methods"), ["uniform", "discounted", "dde"])
        XCTAssertEqual(preset.string("schedule"), "scaled_linear", "the rest comes from sd15.conf")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-sdxl-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let config = try ConfigLoader.load(file: file, overrides: [
            "out=\(folder)", "block_out_channels=8,16", "norm_num_groups=4", "cross_attention_dim=8", "text_encoder.heads=2",
            "text_encoder.intermediate_size=16", "sample_size=8",
            "pretrain.batch=8", "pretrain.steps=3", "pretrain.val_images=4", "pretrain.sample_every=0", "sample.steps=2",
            "annotators.steps=5", "annotators.batch=8", "annotators.eval_images=16", "annotators.min_accuracy=0",
            "pairs.samples_per_prompt=2", "steps=2", "batch=2", "eval.steps=2", "eval.images_per_prompt=1", "eval.bootstrap=100",
            "compare.seeds=0",
        ])
        XCTAssertEqual(try RunSettings(try ConfigLoader.load(file: file, overrides: [])).compare.seeds, [0, 1, 2], "sd15.conf's seeds")
        let rows = try Comparison(settings: try RunSettings(config), build: BuildInfo(commit: "test"), observer: SilentObserver()).run()
        XCTAssertEqual(Set(rows.map(\.method)), ["base", "uniform", "discounted", "dde"])
        XCTAssertEqual(rows.count, 3 + 3 * 3 * 3, "base x 3 eval annotators, 3 methods x 3 train annotators x 3")
        XCTAssertTrue(rows.allSatisfy { $0.mean.isFinite })
    }

    /// report.html after the toy run: the table's rows (base first) and every file it links exist;
    /// the charts read the fine-tune folders' files; the overview grid is 3 models (base, sft, dde) high and 8 prompts wide, in 8 px samples
    /// scaled to 64 px cells with 2 px gaps.
    func checkReportPage(_ comparison: Comparison, config: Config, rows: [ReportRow]) throws {
        let page = try ReportPage.write(ReportPage.Contents(comparison, rows: rows))
        XCTAssertEqual(page, config.outDirectory + "/report.html")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let base = try XCTUnwrap(html.range(of: "<tr><th>base</th>")), sft = try XCTUnwrap(html.range(of: "<tr><th>sft</th>"))
        XCTAssertLessThan(base.lowerBound, sft.lowerBound, "the base row comes first")
        XCTAssertTrue(html.contains("<tr><th>dde</th>") && html.contains("<td>dde</td><td>aesthetic</td><td>pick</td>"),
                      "the table and the full matrix")
        let sources = html.components(separatedBy: "src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertTrue(sources.contains("report/grid-all.png") && sources.contains("report/grid-dde-aesthetic-s0.png")
                      && sources.contains("report/loss.svg") && sources.contains("report/credit.svg"), "\(sources)")
        for s in sources {
            XCTAssertTrue(FileManager.default.fileExists(atPath: config.outDirectory + "/" + s), "report.html links \(s), which is missing")
        }
        // The readers against what FineTuner really writes: every chart of a dde run has data.
        for chart in ["loss.svg", "implicit-accuracy.svg", "record-dde-aesthetic-s0.svg", "correction.svg", "credit.svg"] {
            let svg = try String(contentsOfFile: config.outDirectory + "/report/" + chart, encoding: .utf8)
            XCTAssertFalse(svg.contains("no data"), "\(chart) has no data: the fine-tune folders' files no longer feed it")
        }
        let overview = try PNGFile.read(config.outDirectory + "/report/grid-all.png")
        XCTAssertEqual([overview.width, overview.height], [8 * 64 + 9 * 2, 3 * 64 + 4 * 2])
    }

    /// The whole main job at toy size: every stage runs, report.csv has the exact header and a
    /// row per method x train annotator x eval annotator; a second run reuses every stage, and a
    /// run with other fine-tune settings in the same folder refuses instead of overwriting.
    func testMainJobAtToySize() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dde-cmp-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let overrides = [
            "out=\(folder)", "block_out_channels=8,16", "norm_num_groups=4", "sample_size=8", "encoder.dim=8",
            "pretrain.batch=8", "pretrain.steps=3", "pretrain.val_images=4", "pretrain.sample_every=0", "sample.steps=2",
            "annotators.steps=5", "annotators.batch=8", "annotators.eval_images=16", "annotators.min_accuracy=0",
            "pairs.samples_per_prompt=2", "compare.methods=sft,dde", "compare.annotators=aesthetic", "steps=2", "batch=2",
            "eval.steps=2", "eval.images_per_prompt=1", "eval.bootstrap=100",
        ]
        let config = try ConfigLoader.load(file: nil, overrides: overrides)
        let comparison = Comparison(settings: try RunSettings(config), build: BuildInfo(commit: "test"), observer: SilentObserver())
        let rows = try comparison.run()
        let dist = ComparisonReport.distributionCSV(comparison.distribution).split(separator: "\n")
        XCTAssertEqual(String(dist[0]), "method,train_annotator,fd,is,colour_error")
        XCTAssertEqual(dist.count, 4, "the header, then base, sft-aesthetic, dde-aesthetic")
        let csv = ComparisonReport.csv(rows).split(separator: "\n")
        XCTAssertEqual(String(csv[0]), ComparisonReport.header)
        XCTAssertEqual(csv.count, 1 + 3 + 2 * 3, "base x 3 eval annotators, 2 methods x 1 train annotator x 3")
        XCTAssertTrue(csv[1].hasPrefix("base,,align,"))
        XCTAssertTrue(csv.contains { $0.hasPrefix("dde,aesthetic,pick,") })
        try checkReportPage(comparison, config: config, rows: rows)
        let timings = try XCTUnwrap(CSVTable.load(folder + "/timings.csv"))
        XCTAssertEqual(timings.header, ["stage", "seconds"])
        XCTAssertEqual(timings.strings("stage"), ["pretrain", "annotators", "eval-base", "pairs-aesthetic", "train-sft-aesthetic-s0",
                                                  "eval-sft-aesthetic-s0", "train-dde-aesthetic-s0", "eval-dde-aesthetic-s0"])
        XCTAssertTrue(timings.numbers("seconds").allSatisfy { ($0 ?? -1) > 0 }, "a positive time per stage")
        XCTAssertEqual(try String(contentsOfFile: folder + "/eval-base/scores.csv", encoding: .utf8).split(separator: "\n").count,
                       try 1 + 3 * comparison.evalPrompts().count, "the header, then 3 eval annotators x the test prompts x 1 image")
        let plan = try Comparison(settings: try RunSettings(config), build: BuildInfo(commit: "test"), observer: SilentObserver()).plan()
        XCTAssertTrue(plan.filter { $0.stage.hasPrefix("train-") || $0.stage.hasPrefix("pairs-") || $0.stage == "pretrain" }
                        .allSatisfy(\.cached), "\(plan)")
        let changed = try ConfigLoader.load(file: nil, overrides: overrides + ["lr=1e-3"])
        XCTAssertThrowsError(try Comparison(settings: try RunSettings(changed), build: BuildInfo(commit: "test"), observer: SilentObserver()).run()) {
            XCTAssertTrue("\($0)".contains("lr: "), "\($0)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/pairs-aesthetic/heldout.jsonl"), "held-out pairs")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/train-dde-aesthetic-s0/heldout.csv"))

        // A sweep in another folder: the stages of the first run are copied (same settings), the
        // grid runs SFT once per lr and every other method at every point, on validation prompts.
        let sweepFolder = folder + "-sweep"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: sweepFolder) }
        let sweep = try ConfigLoader.load(file: nil, overrides: overrides.filter { !$0.hasPrefix("out=") } + [
            "out=\(sweepFolder)", "reuse=\(folder)", "compare.beta=50,100", "compare.lr=1e-4", "eval.prompts=validation"])
        let grid = Comparison(settings: try RunSettings(sweep), build: BuildInfo(commit: "test"), observer: SilentObserver())
        XCTAssertEqual(grid.runs.map(\.name), ["sft-aesthetic-s0-lr=0.0001", "dde-aesthetic-s0-beta=50-lr=0.0001",
                                                "dde-aesthetic-s0-beta=100-lr=0.0001"])
        let sweepRows = try grid.run()
        for stage in ["pretrain", "annotators", "pairs-aesthetic"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: sweepFolder + "/" + stage), "\(stage) copied")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: sweepFolder + "/train-dde-aesthetic-s0"), "another setting: not copied")
        // The same plan elsewhere copies the fine-tunes too, so nothing is trained again.
        let copyFolder = folder + "-copy"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: copyFolder) }
        let copy = try ConfigLoader.load(file: nil, overrides: overrides.filter { !$0.hasPrefix("out=") } + ["out=\(copyFolder)", "reuse=\(folder)"])
        let copyPlan = try Comparison(settings: try RunSettings(copy), build: BuildInfo(commit: "test"), observer: SilentObserver()).plan()
        XCTAssertTrue(copyPlan.filter { !$0.stage.hasPrefix("eval-") }.allSatisfy(\.cached),
                      "dry_run counts what reuse= would copy as cached: \(copyPlan)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: copyFolder), "a plan writes nothing")
        let copied = try Comparison(settings: try RunSettings(copy), build: BuildInfo(commit: "test"), observer: SilentObserver()).run()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copyFolder + "/train-dde-aesthetic-s0/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: folder + "/train-dde-aesthetic-s0/model.safetensors")))
        XCTAssertEqual(ComparisonReport.csv(copied), ComparisonReport.csv(rows), "the same models score the same")
        let sweepCSV = ComparisonReport.sweepCSV(sweepRows).split(separator: "\n")
        XCTAssertEqual(sweepCSV.count, 1 + 3 + 3 * 3)
        XCTAssertTrue(sweepCSV.contains { $0.hasPrefix("dde,beta=50 lr=0.0001,aesthetic,aesthetic,") }, "\(sweepCSV)")
        XCTAssertTrue(ComparisonReport.table(sweepRows).contains("dde beta=100 lr=0.0001"))
        let resolved = try String(contentsOfFile: sweepFolder + "/train-dde-aesthetic-s0-beta=100-lr=0.0001/config.resolved.conf",
                                  encoding: .utf8)
        XCTAssertTrue(resolved.split(separator: "\n").contains { $0.hasPrefix("beta ") && $0.contains("= 100.0 ") },
                      resolved)
    }
}
