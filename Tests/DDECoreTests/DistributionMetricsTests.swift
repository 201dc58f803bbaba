import XCTest
import DDECore

final class DistributionMetricsTests: XCTestCase {
    let size = 16

    /// A briefly trained classifier (an untrained one maps every image to nearly the same
    /// features and predictions, IS ~ 1.0003, and separates clean from wrong-colour renders by
    /// under 10% in FD): 100 steps of 32 images, the colour head is then well above chance.
    static let trained: AlignTrainingResult = try! AlignClassifier.train(
        AlignTraining(steps: 100, batch: 32, lr: 1.2e-2, warmupSteps: 10, heldOutImages: 256, seed: 3))

    func classifier() -> AlignClassifier { Self.trained.classifier }

    /// Generated images equal to the reference renders: FD 0 up to rounding; other clean renders
    /// lie closer than wrong-colour renders of the same prompts, whose shape colour error is large.
    func testReportOrdersCleanBeforeWrongColour() throws {
        let c = classifier()
        let prompts = (0..<ShapesPrompt.count).filter { $0 % 6 == 0 }.map { ShapesPrompt(index: $0) }  // 64 prompts
        let k = 4
        let repeated = prompts.flatMap { [ShapesPrompt](repeating: $0, count: k) }
        let reference = DistributionMetrics.reference(prompts: repeated, perPrompt: k, size: size, classifier: c, seed: 7)
        XCTAssertEqual(reference, DistributionMetrics.reference(prompts: prompts, perPrompt: k, size: size, classifier: c, seed: 7),
                       "distinct prompts, deterministic")

        let same = DistributionMetrics.referenceImages(prompts: prompts, perPrompt: k, size: size, seed: 7)
        let selfReport = try DistributionMetrics.report(images: same, prompts: repeated, size: size, classifier: c, reference: reference)
        XCTAssertEqual(selfReport.fd, 0, accuracy: 1e-6, "rounding: the square root of near-zero eigenvalues amplifies 1e-16 to ~1e-8")

        let renderer = ShapesRenderer(size: size)
        var rng = RandomStream(seed: 8, stream: 3)
        let clean = repeated.flatMap { renderer.render($0, rng: &rng) }
        let wrong = repeated.flatMap { renderer.render($0, defect: .wrongColour, rng: &rng) }
        let cleanReport = try DistributionMetrics.report(images: clean, prompts: repeated, size: size, classifier: c, reference: reference)
        let wrongReport = try DistributionMetrics.report(images: wrong, prompts: repeated, size: size, classifier: c, reference: reference)
        // measured: FD clean 0.048 vs wrong colour 0.286; shape colour error 14.5 vs 226 RGB units
        XCTAssertLessThan(2 * cleanReport.fd, wrongReport.fd, "clean \(cleanReport.fd), wrong colour \(wrongReport.fd)")
        XCTAssertLessThan(cleanReport.colourErrorShape, 30)
        XCTAssertGreaterThan(wrongReport.colourErrorShape, 100)
        XCTAssertEqual(cleanReport.colourError, (cleanReport.colourErrorShape + cleanReport.colourErrorBackground) / 2)
        XCTAssertEqual(cleanReport.inceptionScores.count, 4)
        for (s, k) in zip(cleanReport.inceptionScores, AlignClassifier.classCounts) {
            XCTAssertGreaterThanOrEqual(s, 1 - 1e-9)
            XCTAssertLessThanOrEqual(s, Double(k) + 1e-9)
        }
        XCTAssertEqual(cleanReport.inceptionScore, cleanReport.inceptionScores.reduce(0, +) / 4, accuracy: 1e-12)

        // Lost diversity: every image a render of one prompt. The colour IS drops to ~1 (clean: 2.98
        // with this briefly trained classifier) and the FD grows.
        let one = [ShapesPrompt](repeating: prompts[0], count: repeated.count)
        let collapsed = one.flatMap { renderer.render($0, rng: &rng) }
        let collapsedReport = try DistributionMetrics.report(images: collapsed, prompts: repeated, size: size, classifier: c,
                                                             reference: reference)
        XCTAssertGreaterThan(cleanReport.inceptionScores[1], 2, "colour IS over 8 evenly used colours")
        XCTAssertLessThan(collapsedReport.inceptionScores[1], 1.2, "colour IS of one prompt")
        XCTAssertLessThan(collapsedReport.inceptionScore, cleanReport.inceptionScore)
        XCTAssertGreaterThan(collapsedReport.fd, 2 * cleanReport.fd)

        // The convenience form computes the same reference.
        let direct = try DistributionMetrics.report(images: clean, prompts: repeated, size: size, classifier: c,
                                                    referencePerPrompt: k, seed: 7)
        XCTAssertEqual(direct, cleanReport)
    }
}
