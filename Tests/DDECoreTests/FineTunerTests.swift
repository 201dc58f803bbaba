import XCTest
import DDECore

final class FineTunerTests: XCTestCase {
    func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-ft-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A tiny base model, and pairs of world renders: the clean render wins over a defective one.
    func fixture() throws -> (Config, String, PreferencePairs) {
        let folder = temporaryFolder()
        let base = try ConfigLoader.load(file: nil, overrides: [
            "out=\(folder)", "block_out_channels=8,16", "norm_num_groups=4", "sample_size=8", "encoder.dim=8",
            "pretrain.batch=8", "pretrain.steps=5", "pretrain.val_images=4", "pretrain.sample_every=0", "sample.steps=2",
        ])
        let model = try Pretrainer(config: base, folder: folder + "/pretrain", build: BuildInfo(commit: "test"),
                                   observer: SilentObserver()).run()
        let dataset = ShapesDataset(prompts: ShapesWorld.split().train, size: 8, defectRate: 0)
        var rng = RandomStream(seed: 4)
        var pairs = PreferencePairs(pairs: [], ties: 0, skipped: [], annotator: "test")
        for prompt in ShapesWorld.split().train.prefix(12) {
            var twin = rng
            let clean = dataset.renderClean(prompt, rng: &rng)
            let bad = ShapesRenderer(size: 8).render(prompt, defect: .noise, rng: &twin)
            pairs.pairs.append(.init(caption: prompt.text, winner: clean, loser: bad, winnerScore: 1, loserScore: 0))
        }
        return (base, model, pairs)
    }

    /// losses.md: at initialisation (policy == reference) every DPO-style loss is exactly ln 2,
    /// through the whole stage (two model copies, noising, per-image errors); SFT's first loss is
    /// the base model's epsilon error on the winners and is not ln 2.
    func testFirstStepLossIsLn2ForEveryPreferenceLoss() throws {
        let (base, model, pairs) = try fixture()
        for kind in PreferenceLoss.Kind.allCases {
            let folder = temporaryFolder()
            let config = try ConfigLoader.load(file: nil, overrides: base.settings.filter { $0.origin == .commandLine }
                .map { "\($0.key.name)=\($0.value.text)" } + ["loss=\(kind.rawValue)", "steps=3", "batch=4", "lr=1e-3", "beta=100"])
            try FineTuner(config: config, folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
                .run(base: model, pairs: pairs)
            let rows = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")
            let header = rows[0].split(separator: ","), first = rows[1].split(separator: ",")
            let loss = Double(first[header.firstIndex(of: "loss")!])!
            if kind.isPreference {
                XCTAssertEqual(loss, log(2), accuracy: 1e-12, "\(kind)")
                let z = Double(first[header.firstIndex(of: "z")!])!
                XCTAssertEqual(z, 0, "\(kind): policy == reference gives z = 0")
                let later = Double(rows[3].split(separator: ",")[header.firstIndex(of: "loss")!])!
                XCTAssertNotEqual(later, log(2), "\(kind): the policy moved")
            } else {
                XCTAssertNotEqual(loss, log(2))
                XCTAssertGreaterThan(loss, 0)
            }
            XCTAssertEqual(FileManager.default.fileExists(atPath: folder + "/record.csv"), kind.usesRecord, "\(kind)")
        }
    }
}
