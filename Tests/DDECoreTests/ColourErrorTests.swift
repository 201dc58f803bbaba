import XCTest
import DDECore

final class ColourErrorTests: XCTestCase {
    let size = 16
    /// Every colour on every background, one of each shape size.
    var prompts: [ShapesPrompt] {
        (0..<ShapesPrompt.count).map { ShapesPrompt(index: $0) }.filter { $0.shape.rawValue == $0.colour.rawValue % 6 }
    }

    func render(_ prompts: [ShapesPrompt], defect: Defect?, seed: UInt64) -> [Float] {
        let renderer = ShapesRenderer(size: size)
        var rng = RandomStream(seed: seed, stream: 1)
        return prompts.flatMap { renderer.render($0, defect: defect, rng: &rng) }
    }

    func testCleanRendersAreCloseAndWrongColourIsFar() {
        let clean = ColourError.measure(render(prompts, defect: nil, seed: 1), prompts: prompts, size: size)
        let wrong = ColourError.measure(render(prompts, defect: .wrongColour, seed: 1), prompts: prompts, size: size)
        XCTAssertLessThan(clean.shape, 30, "clean shape error \(clean.shape)")
        XCTAssertLessThan(clean.background, 15, "clean background error \(clean.background)")
        XCTAssertGreaterThan(wrong.shape, 100, "wrong-colour shape error \(wrong.shape)")
        XCTAssertLessThan(wrong.background, 15, "wrong-colour background error \(wrong.background)")
        XCTAssertEqual(clean.mean, (clean.shape + clean.background) / 2)
    }

    /// A gray background lifted by +0.3 model units per channel: 0.3 sqrt(3) x 127.5 = 66 RGB units.
    func testShiftedBackgroundRaisesBackgroundError() {
        let gray = prompts.filter { $0.background == .gray }
        var images = render(gray, defect: nil, seed: 2)
        let before = ColourError.measure(images, prompts: gray, size: size)
        images = images.map { min(1, $0 + 0.3) }
        let after = ColourError.measure(images, prompts: gray, size: size)
        XCTAssertLessThan(before.background, 10)
        XCTAssertEqual(after.background, 0.3 * 3.0.squareRoot() * 127.5, accuracy: 10, "background error \(after.background)")
    }

    /// One image against a hand-made one: flat background at its nominal colour, a 6 x 6 block of
    /// the nominal shape colour: both errors 0.
    func testExactColoursMeasureZero() {
        let prompt = ShapesPrompt(shape: .square, colour: .blue, background: .white, size: .large)
        let s = size, plane = s * s
        var image = [Float](repeating: 0, count: 3 * plane)
        let f = prompt.colour.value, b = prompt.background.value
        for y in 0..<s { for x in 0..<s {
            let inside = (5..<11).contains(x) && (5..<11).contains(y)
            for c in 0..<3 { image[c * plane + y * s + x] = inside ? f[c] : b[c] }
        } }
        let d = image.withUnsafeBufferPointer { ColourError.distances($0.baseAddress!, size: s, prompt: prompt) }
        XCTAssertEqual(d.shape, 0, accuracy: 1e-3)
        XCTAssertEqual(d.background, 0, accuracy: 1e-3)
    }
}
