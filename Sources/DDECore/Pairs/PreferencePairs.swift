// Pairs: preference pairs. `PreferencePairs` is a set in Pick-a-Pic v2's columns (`pairs.jsonl`
// plus PNG files), loaded as model-ready CHW floats, winner first, with a `contentDigest` for the
// fine-tune's signature; `PairsBuilder` makes one: base-model samples per prompt (Sampling), scored
// by one `Annotator`, best paired with worst while the gap is at least `pairs.min_gap`. The pairs
// stage's frame and folder are set up in Compare; uses IO and World.

import Foundation

/// A preference set in Pick-a-Pic v2's columns (testbed.md): `pairs.jsonl`, one object a line
/// with `caption`, `image_0`, `image_1` (PNG or JPEG paths relative to the file; `jpg_0`, `jpg_1`
/// as Pick-a-Pic names them are read too), `label_0` (1: image_0 preferred, 0: image_1
/// preferred, 0.5: a tie); `label_1`, `score_0`, `score_1` and `annotator` are optional (the
/// pairs stage writes all but `label_1`). Loaded into memory as model-ready CHW floats, winner
/// first, each image resized and centre-cropped as the diffusers DPO script does
/// (`ImageResize`); ties are counted, not used for training, as that script skips them.
public struct PreferencePairs {
    public struct Pair {
        public var caption: String
        /// (3, S, S) in [-1, 1].
        public var winner: [Float]
        public var loser: [Float]
        public var winnerScore: Double
        public var loserScore: Double
        /// The second image's caption when it differs from the first's (KTO's class-balanced draws
        /// put two images of different pairs in one slot); nil: `caption`.
        public var loserCaption: String?

        public init(caption: String, winner: [Float], loser: [Float], winnerScore: Double, loserScore: Double,
                    loserCaption: String? = nil) {
            self.caption = caption
            self.winner = winner
            self.loser = loser
            self.winnerScore = winnerScore
            self.loserScore = loserScore
            self.loserCaption = loserCaption
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

    /// One line as read: the written `Row`'s columns, Pick-a-Pic's image names, and the
    /// optional ones optional.
    struct ReadRow: Decodable {
        var caption: String
        var image_0: String
        var image_1: String
        var label_0: Double
        var label_1: Double?
        var score_0: Double?
        var score_1: Double?
        var annotator: String?

        enum Key: String, CodingKey { case caption, image_0, image_1, jpg_0, jpg_1, label_0, label_1, score_0, score_1, annotator }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            caption = try c.decode(String.self, forKey: .caption)
            func image(_ ours: Key, _ pickapic: Key) throws -> String {
                for key in [ours, pickapic] where c.contains(key) {
                    if try c.decodeNil(forKey: key) { throw DataError("column '\(key.rawValue)' is null") }
                    return try c.decode(String.self, forKey: key)
                }
                throw DataError("missing column '\(ours.rawValue)' (or '\(pickapic.rawValue)')")
            }
            image_0 = try image(.image_0, .jpg_0)
            image_1 = try image(.image_1, .jpg_1)
            label_0 = try c.decode(Double.self, forKey: .label_0)
            label_1 = try c.decodeIfPresent(Double.self, forKey: .label_1)
            score_0 = try c.decodeIfPresent(Double.self, forKey: .score_0)
            score_1 = try c.decodeIfPresent(Double.self, forKey: .score_1)
            annotator = try c.decodeIfPresent(String.self, forKey: .annotator)
        }
    }

    public var pairs: [Pair]
    public var ties: Int
    /// True when every pair came with `score_0` and `score_1` (SmPO's soft label needs them;
    /// a pair without them carries NaN scores).
    public var hasScores = true
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
                let row: ReadRow
                do { row = try decoder.decode(ReadRow.self, from: Data(line.utf8)) } catch let error as DataError {
                    throw DataError("\(place): \(error)")
                } catch let DecodingError.keyNotFound(key, _) {
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
                if let l1 = row.label_1, l1 != 1 - row.label_0 {
                    throw DataError("\(place): label_1 is \(l1) but label_0 is \(row.label_0); label_1 must be 1 - label_0")
                }
                if row.label_0 == 0.5 { result.ties += 1; continue }
                func image(_ name: String) throws -> [Float] {
                    let p = name.hasPrefix("/") ? name : folder + "/" + name
                    let picture: RGBImage
                    do { picture = try ImageFile.read(p) } catch { throw DataError("\(place): \(error)") }
                    return ImageResize.shorterSideAndCentreCrop(picture, to: size)
                }
                let a = try image(row.image_0), b = try image(row.image_1)
                let zeroWins = row.label_0 == 1
                if row.score_0 == nil || row.score_1 == nil { result.hasScores = false }
                let s0 = row.score_0 ?? .nan, s1 = row.score_1 ?? .nan
                result.pairs.append(Pair(caption: row.caption, winner: zeroWins ? a : b, loser: zeroWins ? b : a,
                                         winnerScore: zeroWins ? s0 : s1, loserScore: zeroWins ? s1 : s0))
                if let name = row.annotator { result.annotator = result.annotator ?? name }
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
