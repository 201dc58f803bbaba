/// `annotator.NAME = COMMAND`: the one family of keys outside the table (`ConfigKeys`), each
/// defining an external annotator `NAME` scored by running `COMMAND FOLDER`
/// (`ExternalAnnotator`). A defined name is usable wherever a built-in one is: `annotator`,
/// `compare.annotators`, the `*.by_annotator` entries.
public struct ExternalAnnotatorKey: Sendable, Equatable {
    /// The prefix that marks the family: `annotator.pickscore`.
    public static let prefix = "annotator."

    public let name: String
    public let command: String
    public let origin: ConfigOrigin

    public init(name: String, command: String, origin: ConfigOrigin) {
        self.name = name
        self.command = command
        self.origin = origin
    }

    /// The key as written in a config: `annotator.NAME`.
    public var key: String { Self.prefix + name }

    /// The names the built-in annotators take, which an external one may not.
    public static let builtInNames = ["align", "aesthetic", "pick"]

    /// `NAME` of `annotator.NAME` when `key` is of the family, else nil.
    static func name(ofKey key: String) -> String? {
        key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : nil
    }

    /// The problem with a definition, phrased to follow `key 'annotator.NAME': `, or nil.
    static func problem(name: String, command: String) -> String? {
        if name.isEmpty { return "an external annotator needs a name: annotator.NAME = COMMAND" }
        if let bad = name.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }) {
            return "'\(bad)' in the name; an annotator's name is letters, digits, '-' and '_' (it names the folder pairs-NAME)"
        }
        if builtInNames.contains(name) { return "'\(name)' is a built-in annotator; give the external one another name" }
        if command.isEmpty {
            return "no command; the annotator is run as 'COMMAND FOLDER' and writes FOLDER/scores.csv (README, Your own scorer)"
        }
        return nil
    }
}
