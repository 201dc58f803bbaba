// Pairs: preference pairs. `PreferencePairs` is a set in Pick-a-Pic v2's columns (`pairs.jsonl`
// plus PNG files), loaded as model-ready CHW floats, winner first, with a `contentDigest` for the
// fine-tune's signature; `PairsBuilder` makes one: base-model samples per prompt (Sampling), scored
// by one `Annotator`, best paired with worst while the gap is at least `pairs.min_gap`. The pairs
// stage's frame and folder are set up in Compare; uses IO and World.

import Foundation

/// A preference set in Pick-a-Pic v2's columns (testbed.md): `pairs.jsonl`, one object a line
/// with `caption`, `image_0`, `image_1` (PNG paths relative to the file), `label_0` (1: image_0
/// preferred, 0: image_1 preferred, 0.5: a tie), plus `score_0`, `score_1`, `annotator`.
/// Loaded into memory as model-ready CHW floats, winner first; ties are kept in the file but
/// not used for training.
public struct PreferencePairs {
    public struct Pair {
        public var caption: String
        /// (3, S, S) in [-1, 1].
        public var winner: [Float]
        public var loser: [Float]
        public var winnerScore: Double
        public var loserScore: Double

        public init(caption: String, winner: [Float], loser: [Float], winnerScore: Double, loserScore: Double) {
            self.caption = caption
            self.winner = winner
            self.loser = loser
            self.winnerScore = winnerScore
            self.loserScore = loserScore
        }
    }

    public struct Row: Codable, Equatable {
        public var caption: String
        public var image_0: String
        public var image_1: String
        public var label_0: Double
        public var score_0: Double
        public var score_1: Double
        public var annotator: String

        public init(caption: String, image_0: String, image_1: String, label_0: Double, score_0: Double,
                    score_1: Double, annotator: String) {
            self.caption = caption
            self.image_0 = image_0
            self.image_1 = image_1
            self.label_0 = label_0
            self.score_0 = score_0
            self.score_1 = score_1
            self.annotator = annotator
        }
    }

    public var pairs: [Pair]
    public var ties: Int
    /// Lines skipped under `data.skip_bad`, each with its file:line and reason.
    public var skipped: [String]
    public var annotator: String?

    public init(pairs: [Pair], ties: Int = 0, skipped: [String] = [], annotator: String? = nil) {
        self.pairs = pairs
        self.ties = ties
        self.skipped = skipped
        self.annotator = annotator
    }

    /// Reads `pairs.jsonl` and its images at `size`; a bad line is an error naming the file and
    /// line, or, with `skipBad`, skipped and counted.
    public static func load(_ path: String, size: Int, skipBad: Bool) throws -> PreferencePairs {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw DataError("\(path): cannot read the pairs file (\(error))") }
        let folder = (path as NSString).deletingLastPathComponent
        var result = PreferencePairs(pairs: [], ties: 0, skipped: [], annotator: nil)
        let decoder = JSONDecoder()
        for (i, raw) in String(decoding: bytes, as: UTF8.self).fileLines().enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let place = "\(path):\(i + 1)"
            do {
                guard (try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any] else {
                    throw DataError("\(place): not a JSON object")
                }
                let row: Row
                do { row = try decoder.decode(Row.self, from: Data(line.utf8)) } catch let DecodingError.keyNotFound(key, _) {
                    throw DataError("\(place): missing column '\(key.stringValue)'")
                } catch let DecodingError.typeMismatch(_, context) {
                    throw DataError("\(place): column '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
                } catch let DecodingError.valueNotFound(_, context) {
                    throw DataError("\(place): column '\(context.codingPath.map(\.stringValue).joined(separator: "."))' is null")
                } catch {
                    throw DataError("\(place): \(error)")
                }
                guard [0, 0.5, 1].contains(row.label_0) else {
                    throw DataError("\(place): label_0 is \(row.label_0); it must be 1, 0 or 0.5")
                }
                if row.label_0 == 0.5 { result.ties += 1; continue }
                func image(_ name: String) throws -> [Float] {
                    let p = name.hasPrefix("/") ? name : folder + "/" + name
                    let png: RGBImage
                    do { png = try PNGFile.read(p) } catch { throw DataError("\(place): \(error)") }
                    return FolderImages.resize(png, to: size)
                }
                let a = try image(row.image_0), b = try image(row.image_1)
                let zeroWins = row.label_0 == 1
                result.pairs.append(Pair(caption: row.caption, winner: zeroWins ? a : b, loser: zeroWins ? b : a,
                                         winnerScore: zeroWins ? row.score_0 : row.score_1,
                                         loserScore: zeroWins ? row.score_1 : row.score_0))
                result.annotator = result.annotator ?? row.annotator
            } catch let error as DataError {
                if !skipBad { throw error }
                result.skipped.append(error.description)
            }
        }
        guard !result.pairs.isEmpty else { throw DataError("\(path): no usable pairs (ties and skipped lines aside)") }
        return result
    }

    /// Writes rows as `pairs.jsonl` crash-safely (one JSON object a line, keys in column order).
    public static func write(_ rows: [Row], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try FileIO.writeAtomically(Array(text.utf8), to: path)
    }
}
