import Foundation

/// `data = folder:PATH`: PNG or JPEG files plus `captions.jsonl` (one `{"file": ..., "caption": ...}`
/// a line), resized to `sample_size` (area average down, bilinear up). Every 20th entry (the
/// 20th, 40th, ... non-empty line, `isHeldOut`) is held out for validation, whether or not a
/// line before it was skipped; their captions are the run's held-out prompts (`RunPrompts`).
/// Loaded once into memory.
public final class FolderImages: TrainingImages {
    public let sampleSize: Int
    let train: [(image: [Float], caption: String)]
    let held: [(image: [Float], caption: String)]
    public let vocabularyCaptions: [String]
    /// Lines skipped under `data.skip_bad`, with the reason, for the run's report.
    public private(set) var skipped: [String] = []

    public init(folder: String, sampleSize: Int, skipBad: Bool) throws {
        self.sampleSize = sampleSize
        let listPath = folder + "/captions.jsonl"
        let bytes: [UInt8]
        do { bytes = try FileIO.read(listPath) } catch {
            throw DataError("\(listPath): cannot read the captions file (data = folder:PATH needs PNG or JPEG files plus captions.jsonl)")
        }
        var all: [(image: [Float], caption: String, entry: Int)] = []
        var skipped: [String] = []
        for entry in try Self.entries(listPath, bytes: bytes, skipBad: skipBad, skipped: &skipped) {
            do {
                let path = entry.file.hasPrefix("/") ? entry.file : folder + "/" + entry.file
                let image: RGBImage
                do { image = try ImageFile.read(path) } catch { throw DataError("\(entry.place): \(error)") }
                all.append((FolderImages.resize(image, to: sampleSize), entry.caption, entry.number))
            } catch let error as DataError {
                if !skipBad { throw error }
                skipped.append(error.description)
            }
        }
        guard all.count >= 2 else {
            throw DataError("\(listPath): \(all.count) usable images; pretraining needs at least 2")
        }
        train = all.filter { !Self.isHeldOut(entry: $0.entry) }.map { ($0.image, $0.caption) }
        let heldOut = all.filter { Self.isHeldOut(entry: $0.entry) }.map { ($0.image, $0.caption) }
        // With fewer than 20 images nothing is held out; validation then reuses the last one.
        held = heldOut.isEmpty ? [(all[all.count - 1].image, all[all.count - 1].caption)] : heldOut
        vocabularyCaptions = all.map(\.caption)
        self.skipped = skipped
    }

    /// Entry `number` (0-based count of the non-empty lines of captions.jsonl) is held out: the
    /// 20th, 40th, ...
    public static func isHeldOut(entry number: Int) -> Bool { number % 20 == 19 }

    /// One line of captions.jsonl: its file, caption, 0-based entry number and `file:line`.
    struct Entry {
        let file: String
        let caption: String
        let number: Int
        /// 1-based line of captions.jsonl.
        let line: Int
        let place: String
    }

    /// The entries of captions.jsonl (`bytes`, read from `listPath`); a bad line stops, or is
    /// skipped into `skipped` under `skipBad` (it keeps its entry number).
    static func entries(_ listPath: String, bytes: [UInt8], skipBad: Bool, skipped: inout [String]) throws -> [Entry] {
        var out: [Entry] = []
        var number = 0
        for (i, raw) in String(decoding: bytes, as: UTF8.self).fileLines().enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            defer { number += 1 }
            let place = "\(listPath):\(i + 1)"
            do {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw DataError("\(place): not a JSON object")
                }
                guard let file = object["file"] as? String else { throw DataError("\(place): no \"file\" string") }
                guard let caption = object["caption"] as? String else { throw DataError("\(place): no \"caption\" string") }
                out.append(Entry(file: file, caption: caption, number: number, line: i + 1, place: place))
            } catch let error as DataError {
                if !skipBad { throw error }
                skipped.append(error.description)
            }
        }
        return out
    }

    public func fillBatch(_ out: UnsafeMutablePointer<Float>, count: Int, rng: inout RandomStream, prompts: inout [String]) {
        let d = 3 * sampleSize * sampleSize
        prompts.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let item = train[rng.int(below: train.count)]
            item.image.withUnsafeBufferPointer { (out + i * d).update(from: $0.baseAddress!, count: d) }
            prompts.append(item.caption)
        }
    }

    public func validationSet(count: Int, seed: UInt64) -> (images: [Float], prompts: [String]) {
        var images: [Float] = [], prompts: [String] = []
        for i in 0..<count {
            images += held[i % held.count].image
            prompts.append(held[i % held.count].caption)
        }
        return (images, prompts)
    }

    public var samplePrompts: [String] { Array(held.prefix(8).map(\.caption)) }

    /// CHW floats in [-1, 1] at `size` x `size`: box-filter (area) when shrinking, bilinear when growing.
    public static func resize(_ image: RGBImage, to size: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * size * size)
        let sx = Double(image.width) / Double(size), sy = Double(image.height) / Double(size)
        for y in 0..<size {
            for x in 0..<size {
                var sum = SIMD3<Double>(0, 0, 0), weight = 0.0
                if sx >= 1 && sy >= 1 {
                    let x0 = Int(Double(x) * sx), x1 = max(x0 + 1, Int(Double(x + 1) * sx))
                    let y0 = Int(Double(y) * sy), y1 = max(y0 + 1, Int(Double(y + 1) * sy))
                    for yy in y0..<min(y1, image.height) {
                        for xx in x0..<min(x1, image.width) {
                            let p = (yy * image.width + xx) * 3
                            sum += SIMD3(Double(image.pixels[p]), Double(image.pixels[p + 1]), Double(image.pixels[p + 2]))
                            weight += 1
                        }
                    }
                } else {
                    let fx = max(0, min(Double(image.width - 1), (Double(x) + 0.5) * sx - 0.5))
                    let fy = max(0, min(Double(image.height - 1), (Double(y) + 0.5) * sy - 0.5))
                    let x0 = Int(fx), y0 = Int(fy), x1 = min(x0 + 1, image.width - 1), y1 = min(y0 + 1, image.height - 1)
                    let ax = fx - Double(x0), ay = fy - Double(y0)
                    for (xx, yy, w) in [(x0, y0, (1 - ax) * (1 - ay)), (x1, y0, ax * (1 - ay)), (x0, y1, (1 - ax) * ay), (x1, y1, ax * ay)] {
                        let p = (yy * image.width + xx) * 3
                        sum += w * SIMD3(Double(image.pixels[p]), Double(image.pixels[p + 1]), Double(image.pixels[p + 2]))
                        weight += w
                    }
                }
                let v = sum / weight
                for c in 0..<3 { out[(c * size + y) * size + x] = Float(v[c] / 127.5 - 1) }
            }
        }
        return out
    }
}

/// Bad training data: names the file and line, on one line (control characters quoted from
/// the file, e.g. an image path holding a newline, are escaped).
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description.escapingControlCharacters }
}
