import Foundation

/// Which sections of the key table each subcommand reads, for `dde-train SUBCOMMAND --help`: a
/// command lists only the keys it uses, by section (`ConfigKeys`' sections: general, model, ...).
/// A command that runs a stage reads every section whose keys change that stage's results (the
/// `affects` column), and the sections of its own options (`compare.*`, `bench.*`, `lora.merge`).
public enum CommandKeys {
    /// Subcommand name -> the sections it reads, in table order (`compare` and `config`: all).
    public static let sections: [String: [String]] = [
        "compare": ConfigKeys.sectionNames.filter { $0 != "bench" },
        "pretrain": ["general", "model", "data", "diffusion", "pretrain", "sampling"],
        "annotators": ["general", "data", "annotators"],
        "pairs": ["general", "model", "data", "diffusion", "annotators", "pairs", "sampling"],
        "train": ["general", "model", "data", "diffusion", "optimisation", "lora", "pairs", "losses"],
        "sample": ["general", "model", "data", "diffusion", "sampling"],
        "eval": ["general", "model", "data", "diffusion", "annotators", "sampling", "evaluation"],
        "claims": ["general", "evaluation", "compare"],
        "inspect": ["general", "diffusion", "losses"],
        "export": ["general", "model", "lora"],
        "forward": ["general", "model"],
        "config": ConfigKeys.sectionNames,
        "bench": ["general", "model", "diffusion", "optimisation", "lora", "losses", "sampling", "bench"],
    ]

    /// The keys `command` reads, one section after another: `# section` lines, then per key
    /// `name = default  what it does` (the doc up to its first `;`); `dde-train config` has the rest.
    public static func help(for command: String) -> String {
        let wanted = Set(sections[command] ?? ConfigKeys.sectionNames)
        var out = "", section = ""
        let keys = ConfigKeys.all.filter { wanted.contains($0.section) && (command == "config" || (onlyFor($0).map { $0 == command } ?? true)) }
        let width = min(40, keys.map { $0.name.count + 3 + max($0.defaultText.count, 2) }.max() ?? 0)
        for key in keys {
            if key.section != section {
                section = key.section
                out += "\(section):\n"
            }
            let left = "\(key.name) = \(key.defaultText.isEmpty ? "\"\"" : key.defaultText)"
            out += "  " + left.padding(toLength: max(width, left.count) + 2, withPad: " ", startingAt: 0) + firstClause(key.doc) + "\n"
        }
        if ["compare", "pairs", "eval", "config"].contains(command) {
            out += "external annotators:\n  " + "\(ExternalAnnotatorKey.prefix)NAME = COMMAND".padding(toLength: width + 2, withPad: " ", startingAt: 0)
                + "defines annotator NAME, scored by running COMMAND FOLDER (README, Your own scorer)\n"
        }
        return out
    }

    /// The one command a key is for, when its doc says so (`dde-train sample: images per prompt`).
    public static func onlyFor(_ key: ConfigKey) -> String? {
        guard key.doc.hasPrefix("dde-train "), let colon = key.doc.firstIndex(of: ":") else { return nil }
        let name = key.doc[key.doc.index(key.doc.startIndex, offsetBy: 10)..<colon]
        return sections[String(name)] != nil ? String(name) : nil
    }

    /// A doc line up to its first `;`, at most 64 characters.
    static func firstClause(_ doc: String) -> String {
        let s = String(doc.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces)
        return s.count > 64 ? String(s.prefix(63)) + "…" : s
    }
}
