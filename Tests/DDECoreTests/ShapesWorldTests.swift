import Foundation
import XCTest
import DDECore

final class ShapesWorldTests: XCTestCase {
    // MARK: vocabulary and split

    func testVocabularyHas384PromptsWithRoundTrips() {
        let all = ShapesWorld.prompts
        XCTAssertEqual(all.count, 384)
        XCTAssertEqual(Set(all).count, 384)
        XCTAssertEqual(Set(all.map(\.text)).count, 384, "texts are distinct")
        XCTAssertEqual(ShapesPrompt.attributeCounts, [6, 8, 4, 2])
        for (i, p) in all.enumerated() {
            XCTAssertEqual(p.index, i)
            XCTAssertEqual(ShapesPrompt(index: i), p)
            XCTAssertEqual(ShapesPrompt(attributes: p.attributes), p)
            XCTAssertEqual(ShapesPrompt(text: p.text), p, p.text)
        }
        let p = ShapesPrompt(shape: .circle, colour: .red, background: .navy, size: .large)
        XCTAssertEqual(p.text, "a large red circle on a navy background")
        XCTAssertEqual(ShapesPrompt(text: "  A Large RED   circle on a navy background. "), p)
        for bad in ["", "a large red circle", "a huge red circle on a navy background",
                    "a large red circle on navy background", "a large red circle on a navy background now",
                    "a large magenta circle on a navy background", "a large red circle on a red background",
                    "an apple on a table"] {
            XCTAssertNil(ShapesPrompt(text: bad), bad)
        }
        XCTAssertNil(ShapesPrompt(attributes: [6, 0, 0, 0]))
        XCTAssertNil(ShapesPrompt(attributes: [0, 0, 0]))
    }

    func testSplitIs288_48_48DisjointStratifiedAndFixed() {
        let split = ShapesWorld.split()
        XCTAssertEqual(split.train.count, 288)
        XCTAssertEqual(split.validation.count, 48)
        XCTAssertEqual(split.test.count, 48)
        let train = Set(split.train), validation = Set(split.validation), test = Set(split.test)
        XCTAssertEqual(train.count + validation.count + test.count, 384)
        XCTAssertTrue(train.isDisjoint(with: validation) && train.isDisjoint(with: test) && validation.isDisjoint(with: test))
        XCTAssertEqual(split, ShapesWorld.split(seed: ShapesWorld.splitSeed), "deterministic")
        XCTAssertNotEqual(split.test, ShapesWorld.split(seed: ShapesWorld.splitSeed + 1).test, "the seed matters")
        for part in [split.validation, split.test] {
            for (a, n) in ShapesPrompt.attributeCounts.enumerated() {
                var counts = [Int](repeating: 0, count: n)
                for p in part { counts[p.attributes[a]] += 1 }
                XCTAssertEqual(counts, [Int](repeating: 48 / n, count: n), "attribute \(a) is balanced")
            }
        }
        for (a, n) in ShapesPrompt.attributeCounts.enumerated() {
            XCTAssertEqual(Set(split.train.map { $0.attributes[a] }).count, n, "train has every value of attribute \(a)")
        }
    }

    /// The palette's promises: colours apart from each other and from every background.
    func testPaletteIsDistinguishable() {
        func distance(_ a: SIMD3<UInt8>, _ b: SIMD3<UInt8>) -> Float {
            let d = SIMD3<Float>(a) - SIMD3<Float>(b)
            return (d * d).sum().squareRoot()
        }
        for a in ShapeColour.allCases {
            for b in ShapeColour.allCases where b != a { XCTAssertGreaterThanOrEqual(distance(a.rgb, b.rgb), 98, "\(a) \(b)") }
            for b in BackgroundColour.allCases { XCTAssertGreaterThanOrEqual(distance(a.rgb, b.rgb), 118, "\(a) on \(b)") }
            XCTAssertGreaterThanOrEqual(ShapeColour.allCases.filter { distance($0.rgb, a.rgb) >= Defect.wrongColourDistance }.count,
                                        3, "\(a) has wrong colours to choose from")
        }
    }

    // MARK: clean renders

    func testRendersAreDeterministicSeedSensitiveAndInRange() {
        for size in [8, 16, 32, 64] {
            let renderer = ShapesRenderer(size: size)
            for (i, defect) in ([nil] + Defect.allCases.map { $0 }).enumerated() {
                let prompt = ShapesPrompt(index: (i * 67 + size) % 384)
                var a = RandomStream(seed: 5), b = RandomStream(seed: 5), c = RandomStream(seed: 6)
                let x = renderer.render(prompt, defect: defect, rng: &a)
                XCTAssertEqual(x.count, 3 * size * size)
                XCTAssertEqual(x, renderer.render(prompt, defect: defect, rng: &b), "same seed, same image")
                XCTAssertEqual(a, b, "same draws")
                XCTAssertNotEqual(x, renderer.render(prompt, defect: defect, rng: &c), "another seed, another image")
                XCTAssertTrue(x.allSatisfy { $0 >= -1 && $0 <= 1 }, "\(size) \(String(describing: defect)) in [-1, 1]")
            }
        }
    }

    func testCleanShapesAreInsideTheFrame() {
        for size in [8, 16, 32] {
            let renderer = ShapesRenderer(size: size)
            for prompt in ShapesWorld.prompts {
                for k in 0..<2 {
                    let r = render(renderer, prompt, nil, seed: UInt64(2 * prompt.index + k))
                    var worst: Float = 0, covered: Float = 0
                    for (x, y) in borderPixels(size) {
                        covered = max(covered, r.scene.coverage(x: Float(x) + 0.5, y: Float(y) + 0.5))
                        let d = r.pixel(x, y) - r.scene.backgroundColour
                        worst = max(worst, abs(d.x), abs(d.y), abs(d.z))
                    }
                    XCTAssertEqual(covered, 0, "\(size)px \(prompt): the shape reaches the border")
                    // the texture is 5 sigma below this (nodes have sigma 0.03, channels move together)
                    XCTAssertLessThan(worst, 0.15, "\(size)px \(prompt): border pixels are background (+ texture)")
                }
            }
        }
    }

    func testShapeAndBackgroundColoursAreNearTheirNominalOnes() {
        for size in [16, 32] {
            let renderer = ShapesRenderer(size: size)
            for prompt in ShapesWorld.prompts {
                for k in 0..<3 {
                    let r = render(renderer, prompt, nil, seed: UInt64(3 * prompt.index + k))
                    let shape = r.mean(where: { $0 >= 0.99 }), background = r.mean(where: { $0 == 0 })
                    XCTAssertEqual(nearestColour(shape), prompt.colour, "\(size)px \(prompt): shape mean \(bytes(shape))")
                    XCTAssertLessThan(distance(shape, prompt.colour.value) * 127.5, 45, "\(prompt): shape mean \(bytes(shape))")
                    XCTAssertEqual(nearestBackground(background), prompt.background, "\(prompt)")
                    XCTAssertLessThan(distance(background, prompt.background.value) * 127.5, 24,
                                      "\(prompt): background \(bytes(background))")
                }
            }
        }
    }

    /// Counted on the image alone: pixels nearer the shape colour than the background.
    func testLargeCoversClearlyMorePixelsThanSmall() {
        let renderer = ShapesRenderer(size: 16)
        for shape in ShapeKind.allCases {
            var small: Float = 0, large: Float = 0, smallest = Float.infinity, biggest: Float = 0
            for colour in ShapeColour.allCases {
                for background in BackgroundColour.allCases {
                    for seed in 0..<2 {
                        func count(_ size: ShapeSize) -> Float {
                            let r = render(renderer, ShapesPrompt(shape: shape, colour: colour, background: background, size: size),
                                           nil, seed: UInt64(seed))
                            return Float(r.foreground().filter { $0 }.count)
                        }
                        let s = count(.small), l = count(.large)
                        small += s; large += l
                        biggest = max(biggest, s); smallest = min(smallest, l)
                    }
                }
            }
            XCTAssertGreaterThan(large / small, 2.2, "\(shape): large / small pixel count")
            XCTAssertLessThan(biggest, smallest, "\(shape): every large render covers more than every small one")
        }
    }

    /// Small shapes at 16x16, centred on a pixel corner, differ from each other by at least
    /// 6 pixels' worth of coverage, and a ring has a hole.
    func testShapesAreDistinct() {
        let size = 16
        var covers: [[Float]] = []
        for kind in ShapeKind.allCases {
            let shape = ShapeInstance(kind: kind, centreX: 8, centreY: 8, radius: 0.215 * 16, rotation: 0)
            covers.append((0..<(size * size)).map { shape.coverage(x: Float($0 % size) + 0.5, y: Float($0 / size) + 0.5) })
            XCTAssertEqual(shape.coverage(x: 8, y: 8), kind == .ring ? 0 : 1, "\(kind) at its centre")
        }
        for a in 0..<covers.count {
            for b in (a + 1)..<covers.count {
                let differing = zip(covers[a], covers[b]).map { abs($0 - $1) }.reduce(0, +)
                XCTAssertGreaterThanOrEqual(differing, 6, "\(ShapeKind(rawValue: a)!) vs \(ShapeKind(rawValue: b)!)")
            }
        }
    }

    /// The analytic distances against a brute-force distance to a densely sampled outline.
    func testSignedDistanceIsEuclidean() {
        var rng = RandomStream(seed: 3)
        for kind in ShapeKind.allCases where kind != .cross {
            let shape = ShapeInstance(kind: kind, centreX: 10, centreY: 9, radius: 5, rotation: 0.2)
            // the outline: points where the distance changes sign along fine radial lines
            var outline: [SIMD2<Float>] = []
            for k in 0..<2000 {
                let a = Float(k) / 2000 * 2 * .pi
                var previous = shape.signedDistance(x: 10, y: 9)
                for step in 1...800 {
                    let t = Float(step) * 0.01
                    let p = SIMD2<Float>(10 + t * cos(a), 9 + t * sin(a))
                    let d = shape.signedDistance(x: p.x, y: p.y)
                    if (d < 0) != (previous < 0) { outline.append(p) }
                    previous = d
                }
            }
            for _ in 0..<200 {
                let x = 10 + 16 * (rng.uniform() - 0.5), y = 9 + 16 * (rng.uniform() - 0.5)
                let nearest = outline.map { (($0.x - x) * ($0.x - x) + ($0.y - y) * ($0.y - y)).squareRoot() }.min()!
                XCTAssertEqual(abs(shape.signedDistance(x: x, y: y)), nearest, accuracy: 0.03, "\(kind) at \(x), \(y)")
            }
        }
    }

    // MARK: defects, each against its clean twin

    func testBlurLowersGradientEnergy() {
        forEachTwin(.blur) { clean, bad, prompt in
            let ratio = gradientEnergy(bad) / gradientEnergy(clean)
            XCTAssertLessThan(ratio, 0.6, "\(prompt): blurred / clean gradient energy")
        }
    }

    func testNoiseRaisesHighFrequencyEnergy() {
        forEachTwin(.noise) { clean, bad, prompt in
            // iid noise of sigma s adds 3 x 20 s^2 (0.86 at the smallest sigma) to the mean
            // Laplacian energy, less what the clamp at [-1, 1] takes off on white and black
            XCTAssertGreaterThan(laplacianEnergy(bad) - laplacianEnergy(clean), 0.3, "\(prompt)")
            // on the flat background, the noise is plain to see
            XCTAssertGreaterThan(bad.backgroundDeviation(), 0.08, "\(prompt)")
            XCTAssertLessThan(clean.backgroundDeviation(), 0.04, "\(prompt)")
        }
    }

    func testLowContrastLowersContrastToAQuarter() {
        forEachTwin(.lowContrast) { clean, bad, prompt in
            let ratio = bad.contrast() / clean.contrast()
            XCTAssertGreaterThan(ratio, 0.15, "\(prompt)")
            XCTAssertLessThan(ratio, 0.35, "\(prompt)")
        }
    }

    func testCutByBorderPutsThirtyToFiftyPercentOutside() {
        forEachTwin(.cutByBorder) { clean, bad, prompt in
            let onBorder = borderPixels(bad.size).filter { bad.isForeground($0.0, $0.1) }.count
            XCTAssertEqual(borderPixels(clean.size).filter { clean.isForeground($0.0, $0.1) }.count, 0, "\(prompt)")
            XCTAssertGreaterThanOrEqual(onBorder, 2, "\(prompt): shape pixels on the border")
            // the share of the shape's area outside the frame, by a 4x4 point sample of each pixel
            let shape = bad.scene.primary, s = Float(bad.size)
            var inside: Float = 0, total: Float = 0
            for j in -4 * bad.size..<8 * bad.size {
                for i in -4 * bad.size..<8 * bad.size {
                    let x = (Float(i) + 0.5) / 4, y = (Float(j) + 0.5) / 4
                    guard shape.signedDistance(x: x, y: y) < 0 else { continue }
                    total += 1
                    if x >= 0, x < s, y >= 0, y < s { inside += 1 }
                }
            }
            let outside = 1 - inside / total
            XCTAssertGreaterThan(outside, 0.27, "\(prompt)")
            XCTAssertLessThan(outside, 0.53, "\(prompt)")
        }
    }

    func testDuplicatedGivesTwoConnectedComponents() {
        forEachTwin(.duplicated) { clean, bad, prompt in
            XCTAssertEqual(clean.components(), 1, "\(prompt) clean")
            XCTAssertEqual(bad.components(), 2, "\(prompt) duplicated")
        }
    }

    func testWrongColourMovesTheShapeColourAway() {
        forEachTwin(.wrongColour) { clean, bad, prompt in
            let mean = bad.mean(where: { $0 >= 0.99 })
            XCTAssertNotEqual(nearestColour(mean), clean.scene.prompt.colour, "\(prompt)")
            XCTAssertGreaterThan(distance(mean, clean.scene.prompt.colour.value) * 127.5, 90, "\(prompt): \(bytes(mean))")
            XCTAssertEqual(bad.scene.primary, clean.scene.primary, "\(prompt): same place, only the colour changes")
            XCTAssertEqual(bad.scene.backgroundColour, clean.scene.backgroundColour, "\(prompt)")
        }
    }

    // MARK: the dataset

    func testDatasetDrawsFromItsSplitWithTheDefectRate() {
        let split = ShapesWorld.split()
        let dataset = ShapesDataset(prompts: split.train, size: 16)
        var rng = RandomStream(seed: 9)
        let n = 4000
        let out = UnsafeMutablePointer<Float>.allocate(capacity: n * dataset.imageCount)
        defer { out.deallocate() }
        var labels: [ShapesDataset.Label] = []
        dataset.fillBatch(out, count: n, rng: &rng, labels: &labels)
        XCTAssertEqual(labels.count, n)
        let train = Set(split.train)
        XCTAssertTrue(labels.allSatisfy { train.contains($0.prompt) }, "only train prompts")
        XCTAssertGreaterThan(Set(labels.map(\.prompt)).count, 280, "uniform over the split")
        let defective = labels.filter { $0.defect != nil }
        XCTAssertEqual(Float(defective.count) / Float(n), 0.35, accuracy: 0.03)
        for d in Defect.allCases {
            XCTAssertEqual(Float(defective.filter { $0.defect == d }.count) / Float(defective.count), 1.0 / 6, accuracy: 0.04, "\(d)")
        }
        for i in 0..<(n * dataset.imageCount) where !(out[i] >= -1 && out[i] <= 1) { XCTFail("value \(out[i]) at \(i)"); break }

        // a batch is the same as one sample after another; the same stream gives the same batch
        var a = RandomStream(seed: 10), b = RandomStream(seed: 10)
        let batch = dataset.fillBatch(out, count: 5, rng: &a)
        for k in 0..<5 {
            let one = dataset.sample(rng: &b)
            XCTAssertEqual(one.label, batch[k])
            XCTAssertEqual(one.image, Array(UnsafeBufferPointer(start: out + k * dataset.imageCount, count: dataset.imageCount)))
        }
        XCTAssertEqual(a, b)

        let clean = ShapesDataset(prompts: split.test, size: 32, defectRate: 0)
        var c = RandomStream(seed: 12)
        XCTAssertTrue((0..<200).allSatisfy { _ in clean.sample(rng: &c).label.defect == nil })
        var d = RandomStream(seed: 13), e = RandomStream(seed: 13)
        XCTAssertEqual(clean.renderClean(split.test[0], rng: &d), ShapesRenderer(size: 32).render(split.test[0], rng: &e))
    }

    func testImageConversionRoundTrips() {
        var rng = RandomStream(seed: 4)
        let image = ShapesRenderer(size: 16).renderImage(ShapesPrompt(index: 100), defect: .noise, rng: &rng)
        XCTAssertEqual(RGBImage(chw: image.chw, width: 16, height: 16), image)
        XCTAssertEqual(RGBImage(chw: [Float](repeating: -1, count: 3) + [0, 1, 2], width: 2, height: 1).pixels,
                       [0, 0, 255, 0, 128, 255])
    }

    /// Writes the contact sheets (rows: every shape, colour, background and size; columns:
    /// three clean variants, then each defect as the twin of the first) that docs/ shows.
    func testContactSheetsAreWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dde-world-sheets").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let rows = Self.sheetPrompts
        for (size, scale) in [(16, 8), (32, 4)] {
            let sheet = ShapesWorld.contactSheet(prompts: rows, size: size, seed: 1, scale: scale)
            XCTAssertEqual(sheet.width, 9 * (128 + 2) + 2)
            XCTAssertEqual(sheet.height, rows.count * (128 + 2) + 2)
            try PNGFile.write(sheet, to: "\(dir)/world-\(size).png")
            XCTAssertEqual(try PNGFile.read("\(dir)/world-\(size).png"), sheet)
        }
    }

    /// 12 rows covering each shape at both sizes, each colour and each background.
    static let sheetPrompts: [ShapesPrompt] = (0..<12).map { i in
        ShapesPrompt(shape: ShapeKind(rawValue: i % 6)!, colour: ShapeColour(rawValue: (i * 3) % 8)!,
                     background: BackgroundColour(rawValue: (i + i / 4) % 4)!, size: ShapeSize(rawValue: i / 6)!)
    }
}

// MARK: helpers: image statistics a test can compute from the pixels (plus the scene's truth)

private struct Render {
    let image: [Float]
    let scene: ShapesScene
    var size: Int { scene.size }

    func pixel(_ x: Int, _ y: Int) -> SIMD3<Float> {
        let plane = size * size, o = y * size + x
        return SIMD3(image[o], image[plane + o], image[2 * plane + o])
    }

    /// Mean colour of the pixels whose scene coverage passes `test`.
    func mean(where test: (Float) -> Bool) -> SIMD3<Float> {
        var sum = SIMD3<Float>(), n: Float = 0
        for y in 0..<size {
            for x in 0..<size where test(scene.coverage(x: Float(x) + 0.5, y: Float(y) + 0.5)) {
                sum += pixel(x, y)
                n += 1
            }
        }
        return sum / max(n, 1)
    }

    /// The background estimated from the border pixels' median per channel.
    var borderBackground: SIMD3<Float> {
        let border = borderPixels(size).map { pixel($0.0, $0.1) }
        func median(_ c: Int) -> Float { border.map { $0[c] }.sorted()[border.count / 2] }
        return SIMD3(median(0), median(1), median(2))
    }

    /// Pixels nearer the scene's shape colour than its background colour.
    func isForeground(_ x: Int, _ y: Int) -> Bool {
        let p = pixel(x, y)
        return distance(p, scene.shapeColour) < distance(p, scene.backgroundColour)
    }

    func foreground() -> [Bool] { (0..<(size * size)).map { isForeground($0 % size, $0 / size) } }

    /// Distance between the mean colours of the foreground and of the other pixels.
    func contrast() -> Float {
        let fg = foreground()
        var a = SIMD3<Float>(), b = SIMD3<Float>(), na: Float = 0, nb: Float = 0
        for i in 0..<fg.count {
            if fg[i] { a += pixel(i % size, i / size); na += 1 } else { b += pixel(i % size, i / size); nb += 1 }
        }
        return distance(a / na, b / nb)
    }

    /// RMS deviation of the pure-background pixels from their mean, per channel.
    func backgroundDeviation() -> Float {
        var values: [SIMD3<Float>] = []
        for y in 0..<size {
            for x in 0..<size where scene.coverage(x: Float(x) + 0.5, y: Float(y) + 0.5) == 0 { values.append(pixel(x, y)) }
        }
        let m = values.reduce(SIMD3<Float>(), +) / Float(values.count)
        return (values.map { (($0 - m) * ($0 - m)).sum() }.reduce(0, +) / Float(3 * values.count)).squareRoot()
    }

    /// 8-connected components of the foreground.
    func components() -> Int {
        var fg = foreground(), count = 0
        for start in 0..<fg.count where fg[start] {
            count += 1
            var stack = [start]
            fg[start] = false
            while let i = stack.popLast() {
                let x = i % size, y = i / size
                for dy in -1...1 {
                    for dx in -1...1 {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, nx < size, ny >= 0, ny < size, fg[ny * size + nx] else { continue }
                        fg[ny * size + nx] = false
                        stack.append(ny * size + nx)
                    }
                }
            }
        }
        return count
    }
}

private func render(_ renderer: ShapesRenderer, _ prompt: ShapesPrompt, _ defect: Defect?, seed: UInt64) -> Render {
    var rng = RandomStream(seed: seed, stream: 7)
    var image = [Float](repeating: .nan, count: renderer.imageCount)
    let scene = image.withUnsafeMutableBufferPointer { renderer.render(prompt, defect: defect, rng: &rng, into: $0.baseAddress!) }
    return Render(image: image, scene: scene)
}

/// Every prompt at 16 and 32 pixels: the clean render and its twin with `defect`.
private func forEachTwin(_ defect: Defect, _ body: (Render, Render, String) -> Void) {
    for size in [16, 32] {
        let renderer = ShapesRenderer(size: size)
        for prompt in ShapesWorld.prompts {
            let seed = UInt64(prompt.index)
            body(render(renderer, prompt, nil, seed: seed), render(renderer, prompt, defect, seed: seed), "\(size)px \(prompt)")
        }
    }
}

private func borderPixels(_ s: Int) -> [(Int, Int)] {
    (0..<s).flatMap { i in [(i, 0), (i, s - 1), (0, i), (s - 1, i)] }
}

private func distance(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float { ((a - b) * (a - b)).sum().squareRoot() }

private func bytes(_ v: SIMD3<Float>) -> String {
    let b = (v + 1) * 127.5
    return "(\(Int(b.x.rounded())), \(Int(b.y.rounded())), \(Int(b.z.rounded())))"
}

private func nearestColour(_ v: SIMD3<Float>) -> ShapeColour {
    ShapeColour.allCases.min { distance($0.value, v) < distance($1.value, v) }!
}

private func nearestBackground(_ v: SIMD3<Float>) -> BackgroundColour {
    BackgroundColour.allCases.min { distance($0.value, v) < distance($1.value, v) }!
}

/// Mean squared difference between horizontal and vertical neighbours, all channels.
private func gradientEnergy(_ r: Render) -> Float {
    var sum: Float = 0, n: Float = 0
    for y in 0..<r.size {
        for x in 0..<r.size {
            if x + 1 < r.size { let d = r.pixel(x + 1, y) - r.pixel(x, y); sum += (d * d).sum(); n += 1 }
            if y + 1 < r.size { let d = r.pixel(x, y + 1) - r.pixel(x, y); sum += (d * d).sum(); n += 1 }
        }
    }
    return sum / n
}

/// Mean squared 4-neighbour Laplacian over the interior pixels, summed over channels.
private func laplacianEnergy(_ r: Render) -> Float {
    var sum: Float = 0, n: Float = 0
    for y in 1..<(r.size - 1) {
        for x in 1..<(r.size - 1) {
            let l = 4 * r.pixel(x, y) - r.pixel(x - 1, y) - r.pixel(x + 1, y) - r.pixel(x, y - 1) - r.pixel(x, y + 1)
            sum += (l * l).sum()
            n += 1
        }
    }
    return sum / n
}
