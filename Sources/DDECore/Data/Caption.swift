/// One caption a run samples, labels or evaluates, and where it came from.
public struct Caption: Sendable, Hashable {
    public let text: String
    /// A number unique within the run's prompts, for pair image names (`p007-2.png`): the world
    /// prompt's index, or the caption's line in its file.
    public let id: Int
    /// Where it was read, for messages: `prompts.txt:7`, `DIR/captions.jsonl:40`, `the shapes world`.
    public let place: String

    public init(text: String, id: Int, place: String) {
        self.text = text
        self.id = id
        self.place = place
    }

    /// A world prompt as a caption.
    public init(_ prompt: ShapesPrompt) {
        self.init(text: prompt.text, id: prompt.index, place: "the shapes world")
    }

    /// The first caption that is not a shapes-world prompt (which the built-in annotators need), or nil.
    public static func firstOutsideShapesWorld(_ captions: [Caption]) -> Caption? {
        captions.first { ShapesPrompt(text: $0.text) == nil }
    }
}
