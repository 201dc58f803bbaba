import XCTest
import DDECore

final class AnnotatorTrainerTests: XCTestCase {
    func config(_ folder: String, _ extra: [String]) throws -> Config {
        try ConfigLoader.load(file: nil, overrides: ["out=\(folder)", "annotators.steps=15", "annotators.batch=16",
                                                     "annotators.eval_images=64", "threads=1"] + extra)
    }

    func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dde-annotators-\(UInt64.random(in: 0...UInt64.max))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The stage writes a loadable classifier with its accuracies, logs every step, is reused
    /// when nothing it depends on changed, and fails when the classifier misses the accuracy bar.
    func testStageWritesTheClassifierAndEnforcesTheAccuracyBar() throws {
        let folder = temporaryFolder()
        let lenient = try config(folder, ["annotators.min_accuracy=0"])
        let trainer = AnnotatorTrainer(config: lenient, folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
        XCTAssertNil(trainer.cachedClassifier)
        let path = try trainer.run()
        XCTAssertEqual(path, AnnotatorTrainer.classifierPath(folder))
        let (classifier, meta) = try AlignClassifier.load(from: path)
        XCTAssertEqual(classifier.channels, AlignClassifier.defaultChannels)
        for name in AlignClassifier.attributeNames {
            let a = try XCTUnwrap(meta["accuracy.\(name)"].flatMap(Double.init), name)
            XCTAssert((0...1).contains(a))
        }
        XCTAssertEqual(meta["steps"], "15")
        XCTAssertEqual(meta["seed"], "0")
        let rows = try String(contentsOfFile: folder + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 16, "header and 15 steps")
        XCTAssertTrue(rows[0].hasPrefix("step,loss,loss_shape,loss_colour,loss_background,loss_size"))
        XCTAssertEqual(try AnnotatorSet.load(folder: folder).all.map(\.name), AnnotatorSet.names)

        XCTAssertEqual(trainer.cachedClassifier, path, "same settings: reused")
        let other = AnnotatorTrainer(config: try config(folder, ["annotators.min_accuracy=0", "annotators.lr=1e-3"]),
                                     folder: folder, build: BuildInfo(commit: "test"), observer: SilentObserver())
        XCTAssertNil(other.cachedClassifier, "another learning rate: retrained")

        // 15 steps cannot read shapes: a strict bar rejects the cached file and fails the run.
        let strict = AnnotatorTrainer(config: try config(folder, ["annotators.min_accuracy=0.95"]), folder: folder,
                                      build: BuildInfo(commit: "test"), observer: SilentObserver())
        XCTAssertNil(strict.cachedClassifier)
        XCTAssertThrowsError(try strict.run()) { error in
            XCTAssertTrue("\(error)".contains("annotators.min_accuracy"), "\(error)")
        }
    }
}
