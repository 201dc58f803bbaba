/// The three annotators of a run, built from one trained `align` classifier.
public struct AnnotatorSet: Sendable {
    /// The names configs and reports use, in report order.
    public static let names = ["align", "aesthetic", "pick"]

    public let align: AlignAnnotator
    public let aesthetic: AestheticAnnotator
    public let pick: PickAnnotator

    public init(classifier: AlignClassifier) {
        align = AlignAnnotator(classifier: classifier)
        aesthetic = AestheticAnnotator()
        pick = PickAnnotator(align: align, aesthetic: aesthetic)
    }

    /// The set from the annotators stage's folder (`<folder>/align.safetensors`); the classifier
    /// computes in `workspace`.
    public static func load(folder: String, workspace: Workspace) throws -> AnnotatorSet {
        AnnotatorSet(classifier: try AlignClassifier.load(from: AnnotatorTrainer.classifierPath(folder), workspace: workspace).classifier)
    }

    /// All three, in `names` order.
    public var all: [any Annotator] { [align, aesthetic, pick] }

    /// The annotator called `name`, or nil.
    public func named(_ name: String) -> (any Annotator)? { all.first { $0.name == name } }
}
