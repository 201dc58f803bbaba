/// The attribute vocabulary of the built-in `shapes` world and its prompts
/// ("a large red circle on a navy background"): 6 shapes x 8 colours x 4 backgrounds x 2 sizes
/// = 384 prompts.
///
/// Each attribute is an `Int`-backed enum whose raw value is the attribute index the `align`
/// classifier predicts. Colours are nominal sRGB bytes; `value` gives the same colour in the
/// diffusion model's units, `x = byte / 127.5 - 1`.

/// The shape attribute.
public enum ShapeKind: Int, CaseIterable, Sendable, Codable {
    case circle, square, triangle, cross, ring, diamond

    /// The prompt word.
    public var word: String { Self.words[rawValue] }
    static let words = ["circle", "square", "triangle", "cross", "ring", "diamond"]
}

/// The shape's colour. The palette keeps every pair at least 98 apart in RGB (orange/yellow,
/// the closest pair) and every colour at least 118 from every background (green on gray), so
/// each stays nameable at 16x16 under the renderer's hue (+-6 deg) and brightness (+-8%) jitter.
public enum ShapeColour: Int, CaseIterable, Sendable, Codable {
    case red, orange, yellow, green, cyan, blue, purple, pink

    public var word: String { Self.words[rawValue] }
    static let words = ["red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink"]

    /// The nominal colour, sRGB bytes.
    public var rgb: SIMD3<UInt8> { Self.palette[rawValue] }
    /// The nominal colour in model units, `byte / 127.5 - 1`, each channel in [-1, 1].
    public var value: SIMD3<Float> { SIMD3<Float>(rgb) / 127.5 - 1 }

    static let palette: [SIMD3<UInt8>] = [
        SIMD3(215, 35, 45),    // red
        SIMD3(250, 130, 15),   // orange
        SIMD3(240, 225, 40),   // yellow
        SIMD3(40, 170, 60),    // green
        SIMD3(30, 200, 220),   // cyan
        SIMD3(40, 80, 230),    // blue
        SIMD3(150, 40, 210),   // purple
        SIMD3(250, 120, 190),  // pink
    ]
}

/// The background colour. None equals a shape colour; the nearest shape colour is 118 away.
public enum BackgroundColour: Int, CaseIterable, Sendable, Codable {
    case white, black, gray, navy

    public var word: String { Self.words[rawValue] }
    static let words = ["white", "black", "gray", "navy"]

    /// The nominal colour, sRGB bytes.
    public var rgb: SIMD3<UInt8> { Self.palette[rawValue] }
    /// The nominal colour in model units, `byte / 127.5 - 1`.
    public var value: SIMD3<Float> { SIMD3<Float>(rgb) / 127.5 - 1 }

    static let palette: [SIMD3<UInt8>] = [
        SIMD3(240, 240, 240),  // white
        SIMD3(20, 20, 20),     // black
        SIMD3(128, 128, 128),  // gray
        SIMD3(20, 30, 90),     // navy
    ]
}

/// The size attribute: the shape's scale radius as a share of the image side.
public enum ShapeSize: Int, CaseIterable, Sendable, Codable {
    case small, large

    public var word: String { Self.words[rawValue] }
    static let words = ["small", "large"]

    /// The range the renderer draws the scale radius from, as a share of the image side:
    /// small 0.19-0.24, large 0.34-0.39, so the two never overlap and a large shape covers
    /// about 2.7x the pixels of a small one.
    public var radiusFraction: ClosedRange<Float> { self == .small ? 0.19...0.24 : 0.34...0.39 }
}

/// One prompt of the `shapes` world: the four attribute values.
public struct ShapesPrompt: Hashable, Sendable, Codable, Comparable {
    public var shape: ShapeKind
    public var colour: ShapeColour
    public var background: BackgroundColour
    public var size: ShapeSize

    public init(shape: ShapeKind, colour: ShapeColour, background: BackgroundColour, size: ShapeSize) {
        self.shape = shape
        self.colour = colour
        self.background = background
        self.size = size
    }

    /// The number of values of each attribute, in the order shape, colour, background, size.
    public static let attributeCounts = [ShapeKind.allCases.count, ShapeColour.allCases.count,
                                         BackgroundColour.allCases.count, ShapeSize.allCases.count]
    /// The number of prompts, 384.
    public static let count = 6 * 8 * 4 * 2

    /// The prompt from its four attribute indices (shape, colour, background, size); nil when
    /// an index is out of range.
    public init?(attributes a: [Int]) {
        guard a.count == 4, let s = ShapeKind(rawValue: a[0]), let c = ShapeColour(rawValue: a[1]),
              let b = BackgroundColour(rawValue: a[2]), let z = ShapeSize(rawValue: a[3]) else { return nil }
        self.init(shape: s, colour: c, background: b, size: z)
    }

    /// The four attribute indices (shape, colour, background, size).
    public var attributes: [Int] { [shape.rawValue, colour.rawValue, background.rawValue, size.rawValue] }

    /// The prompt's position in `ShapesWorld.prompts`, `((shape * 8 + colour) * 4 + background) * 2 + size`.
    public var index: Int { ((shape.rawValue * 8 + colour.rawValue) * 4 + background.rawValue) * 2 + size.rawValue }

    /// The prompt at `index` in `0..<384`.
    public init(index: Int) {
        precondition((0..<Self.count).contains(index), "prompt index \(index) is outside 0..<\(Self.count)")
        self.init(shape: ShapeKind(rawValue: index / 64)!, colour: ShapeColour(rawValue: index / 8 % 8)!,
                  background: BackgroundColour(rawValue: index / 2 % 4)!, size: ShapeSize(rawValue: index % 2)!)
    }

    /// "a large red circle on a navy background".
    public var text: String { "a \(size.word) \(colour.word) \(shape.word) on a \(background.word) background" }

    /// Parses `text`'s format back, ignoring case, extra whitespace and a final full stop;
    /// nil for any text that is not a world prompt.
    public init?(text: String) {
        var t = Substring(text.lowercased())
        while let last = t.last, last.isWhitespace { t = t.dropLast() }
        if t.hasSuffix(".") { t = t.dropLast() }
        let w = t.split(whereSeparator: \.isWhitespace).map(String.init)
        guard w.count == 8, w[0] == "a", w[4] == "on", w[5] == "a", w[7] == "background",
              let z = ShapeSize.words.firstIndex(of: w[1]), let c = ShapeColour.words.firstIndex(of: w[2]),
              let s = ShapeKind.words.firstIndex(of: w[3]), let b = BackgroundColour.words.firstIndex(of: w[6])
        else { return nil }
        self.init(attributes: [s, c, b, z])
    }

    public static func < (a: ShapesPrompt, b: ShapesPrompt) -> Bool { a.index < b.index }
}

extension ShapesPrompt: CustomStringConvertible {
    public var description: String { text }
}
