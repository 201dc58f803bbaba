/// The prompt encoder's word-level tokenizer: lower-case, split on anything that is not a
/// letter or digit, map each word to its vocabulary index, pad or cut to `maxTokens`.
///
/// Id 0 is `<pad>`, id 1 is `<unk>` (a word outside the vocabulary). The vocabulary is built
/// from the training captions and saved with the model, so a checkpoint tokenizes as it was
/// trained.
public struct Tokenizer: Sendable, Equatable, Codable {
    public static let pad: Int32 = 0
    public static let unknown: Int32 = 1

    /// Words by id; entries 0 and 1 are `<pad>` and `<unk>`.
    public let words: [String]
    public let maxTokens: Int
    private let ids: [String: Int32]

    public init(words: [String], maxTokens: Int) {
        precondition(words.count >= 2 && words[0] == "<pad>" && words[1] == "<unk>")
        self.words = words
        self.maxTokens = maxTokens
        var ids: [String: Int32] = [:]
        for (i, w) in words.enumerated() { ids[w] = Int32(i) }
        self.ids = ids
    }

    /// A vocabulary of every word in `captions`, sorted (deterministic), at most `limit` words
    /// (the most frequent; ties by spelling).
    public init(captions: [String], maxTokens: Int, limit: Int = 4096) {
        var counts: [String: Int] = [:]
        for c in captions { for w in Tokenizer.split(c) { counts[w, default: 0] += 1 } }
        let kept = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(limit).map(\.key).sorted()
        self.init(words: ["<pad>", "<unk>"] + kept, maxTokens: maxTokens)
    }

    public var vocabularySize: Int { words.count }

    /// Lower-cased words: maximal runs of letters and digits.
    public static func split(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// `maxTokens` ids: the words' ids, then `<pad>`; words past `maxTokens` are dropped.
    public func encode(_ text: String) -> [Int32] {
        var out = Tokenizer.split(text).prefix(maxTokens).map { ids[$0] ?? Tokenizer.unknown }
        out += [Int32](repeating: Tokenizer.pad, count: maxTokens - out.count)
        return out
    }

    enum CodingKeys: String, CodingKey { case words, maxTokens = "max_tokens" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(words: try c.decode([String].self, forKey: .words), maxTokens: try c.decode(Int.self, forKey: .maxTokens))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(words, forKey: .words)
        try c.encode(maxTokens, forKey: .maxTokens)
    }

    public static func == (a: Tokenizer, b: Tokenizer) -> Bool { a.words == b.words && a.maxTokens == b.maxTokens }
}
