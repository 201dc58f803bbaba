// World: the built-in `shapes` world the testbed runs on. `ShapesWorld` lists its 384 prompts
// (`ShapesPrompt`: shape, colour, background, size) and their fixed 288/48/48 train, validation and
// test split; `ShapesScene` draws everything random about one image, `ShapesRenderer` rasterises
// it, `ShapesDataset` samples pretraining images, and `Defect` is the damage a share of them
// carries. Uses only `RandomStream` and IO's `RGBImage`.

/// The built-in `shapes` world: its 384 prompts and their fixed train/validation/test split.
public enum ShapesWorld {
    /// All 384 prompts, in `ShapesPrompt.index` order.
    public static let prompts: [ShapesPrompt] = (0..<ShapesPrompt.count).map(ShapesPrompt.init(index:))

    /// The seed of the split every run uses (changing it changes which prompts are held out).
    public static let splitSeed: UInt64 = 20_240_601

    /// A partition of the prompts into 288 train, 48 validation and 48 test prompts, each sorted
    /// by index.
    public struct Split: Sendable, Equatable {
        public let train: [ShapesPrompt]
        public let validation: [ShapesPrompt]
        public let test: [ShapesPrompt]
    }

    /// The split for `seed` (default: `splitSeed`, the one every run uses).
    ///
    /// Stratified by construction: validation and test each hold every (shape, colour) pair
    /// exactly once, and for every shape each of the 8 (background, size) combinations once, so
    /// each split has every shape 8 times, every colour 6, every background 12 and every size 24
    /// times, and train keeps 6 of the 8 (background, size) variants of every (shape, colour).
    /// Per shape a seeded permutation `p` of the 8 combinations gives colour `c` the combination
    /// `p[c]` in validation and `p[(c + 1) % 8]` in test, which differ, so the splits are disjoint.
    public static func split(seed: UInt64 = splitSeed) -> Split {
        var rng = RandomStream(seed: seed, stream: 0x5350_4C49_54)  // "SPLIT"
        var validation: [ShapesPrompt] = [], test: [ShapesPrompt] = []
        for shape in ShapeKind.allCases {
            var p = Array(0..<8)
            for i in stride(from: 7, to: 0, by: -1) { p.swapAt(i, rng.int(below: i + 1)) }  // Fisher-Yates
            for colour in ShapeColour.allCases {
                func prompt(_ combination: Int) -> ShapesPrompt {
                    ShapesPrompt(shape: shape, colour: colour, background: BackgroundColour(rawValue: combination / 2)!,
                                 size: ShapeSize(rawValue: combination % 2)!)
                }
                validation.append(prompt(p[colour.rawValue]))
                test.append(prompt(p[(colour.rawValue + 1) % 8]))
            }
        }
        let held = Set(validation).union(test)
        return Split(train: prompts.filter { !held.contains($0) }, validation: validation.sorted(), test: test.sorted())
    }
}
