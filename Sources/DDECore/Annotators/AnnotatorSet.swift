/// The annotators of a run: the built-in three, built from one trained `align` classifier, then
/// the external ones its config defines (`annotator.NAME = COMMAND`).
public struct AnnotatorSet: Sendable {
    /// The built-in annotators' names, in report order.
    public static let builtInNames = ExternalAnnotatorKey.builtInNames

    public let align: AlignAnnotator
    public let aesthetic: AestheticAnnotator
    public let pick: PickAnnotator
    public let external: [ExternalAnnotator]

    public init(classifier: AlignClassifier, external: [ExternalAnnotatorKey] = []) {
        align = AlignAnnotator(classifier: classifier)
        aesthetic = AestheticAnnotator()
        pick = PickAnnotator(align: align, aesthetic: aesthetic)
        self.external = external.map(ExternalAnnotator.init)
    }

    /// The set from the annotators stage's folder (`<folder>/align.safetensors`) and the
    /// config's external annotators; the classifier computes in `workspace`.
    public static func load(folder: String, workspace: Workspace, external: [ExternalAnnotatorKey] = []) throws -> AnnotatorSet {
        AnnotatorSet(classifier: try AlignClassifier.load(from: AnnotatorTrainer.classifierPath(folder), workspace: workspace).classifier,
                     external: external)
    }

    /// The built-in three, in `builtInNames` order.
    public var builtIn: [any ShapesAnnotator] { [align, aesthetic, pick] }

    /// The built-in three, then the external ones.
    public var all: [any Annotator] { builtIn + external }

    /// Their names, in `all` order (the report's columns).
    public var names: [String] { all.map(\.name) }

    /// The annotator called `name`, or nil.
    public func named(_ name: String) -> (any Annotator)? { all.first { $0.name == name } }

    /// The annotator called `name` when it can score `captions`; throws naming the first caption a
    /// built-in annotator cannot read (with its file and line) or an unknown name.
    public func judging(_ name: String, _ captions: [Caption]) throws -> any Annotator {
        guard let annotator = named(name) else {
            throw AnnotatorError("no annotator '\(name)' (\(names.joined(separator: ", ")); an external one is defined by annotator.NAME = COMMAND)")
        }
        try Self.check(name, canJudge: captions)
        return annotator
    }

    /// Throws when `name` is a built-in annotator and a caption is not a shapes-world prompt,
    /// naming its file and line (checked before any stage runs).
    public static func check(_ name: String, canJudge captions: [Caption]) throws {
        if builtInNames.contains(name), let outside = Caption.firstOutsideShapesWorld(captions) {
            throw AnnotatorError.notShapesCaption(outside.text, annotator: name, place: outside.place)
        }
    }

    /// The annotators that can score `captions`: the built-in three when every caption is a
    /// shapes-world prompt, and every external one.
    public func able(toScore captions: [Caption]) -> [any Annotator] {
        Caption.firstOutsideShapesWorld(captions) == nil ? all : external
    }
}
