import Foundation

/// One row of the config table (`ConfigKeys.all`): everything dde-train knows about a key.
///
/// The table feeds config files, `key=value` overrides, `dde-train config`, the README's key
/// list and the resolved config saved with every run, so a key is declared once, on one line:
///
///     ConfigKey("threads", .int, "2", unit: "threads", "threads for BLAS and dde-train's own loops", .range(1...64))
public struct ConfigKey: Sendable {
    /// `lr`, `bench.repeats`: lower case, digits, `_` and `.`.
    public let name: String
    public let type: ConfigType
    /// The default as config-file text; it must parse and pass `checks` (a test holds this).
    public let defaultText: String
    /// `steps`, `pairs`, `px`; empty when the value has no unit.
    public let unit: String
    /// One line: what the key does.
    public let doc: String
    /// Every check must pass for a value to be accepted.
    public let checks: [ConfigCheck]
    /// The stages whose results change with this key (the table's `affects` column): the
    /// weights of `pretrain`, `annotators` and `train`, the pairs of `pairs`, the scores of
    /// `eval`, the intervals of `report`. Stage signatures, the resume check and `dde-train
    /// config` are derived from it. Empty: the key changes no stage's results (logging,
    /// intervals, paths, what to run); nil: not classified, which a test refuses.
    ///
    /// A `path` key enters a signature by the content of the file it names (the stage's input,
    /// `StageSignature.input`), never by its text.
    public let affects: [Stage]?
    /// The losses whose fine-tunes a `train`-affecting key changes: nil, every loss (`lr`,
    /// `batch`, ...); `[.kto]` for `kto.labels`, `[.dde, .ddeSingle, .ddeStep]` for `dde.kappa`;
    /// empty for the methods' own beta and lr keys, which `Config.forMethod` resolves into `beta`
    /// and `lr` (those enter instead). A fine-tune's signature holds only its own loss's keys, so
    /// adding a loss and its keys leaves every other loss's finished fine-tunes reusable.
    public let losses: [PreferenceLoss.Kind]?
    /// The table section the key is listed under (`general`, `model`, ...).
    public internal(set) var section = ""

    public init(_ name: String, _ type: ConfigType, _ defaultText: String, unit: String = "",
                affects: [Stage]? = nil, losses: [PreferenceLoss.Kind]? = nil, _ doc: String, _ checks: ConfigCheck...) {
        self.name = name
        self.type = type
        self.defaultText = defaultText
        self.unit = unit
        self.affects = affects
        self.losses = losses
        self.doc = doc
        self.checks = checks
    }

    /// True when the key's value is part of `stage`'s signature (a path key enters by content
    /// instead); for `train`, of a fine-tune with `loss` (nil: any).
    public func isInSignature(of stage: Stage, loss: PreferenceLoss.Kind? = nil) -> Bool {
        guard (affects ?? []).contains(stage) && type != .path else { return false }
        guard stage == .train, let losses else { return true }
        return loss.map(losses.contains) ?? !losses.isEmpty
    }

    /// The default, parsed. A default that does not parse is a bug in the table.
    public var defaultValue: ConfigValue {
        do { return try parse(defaultText) } catch { fatalError("ConfigKeys: default of '\(name)': \(error)") }
    }

    /// What values are accepted, for the key table: the choices and every check's summary.
    public var allowed: String {
        var parts: [String] = []
        if case .choice(let words) = type { parts.append(words.joined(separator: ", ")) }
        parts += checks.map(\.summary)
        return parts.joined(separator: "; ")
    }

    /// Parses and validates `text` (already trimmed of surrounding spaces).
    ///
    /// Throws a `ConfigError` without a location whose message starts with `key '<name>': `,
    /// e.g. `key 'batch': expected an integer, got '3.5'`; the loader adds the `file:line`.
    public func parse(_ text: String) throws -> ConfigValue {
        let value = try parseUnchecked(text)
        try validate(value)
        return value
    }

    /// Runs every check on a value that did not come from text (a model file's metadata keeps
    /// the architecture as JSON); the error is the one `parse` throws.
    public func validate(_ value: ConfigValue) throws {
        for check in checks {
            if let problem = check.check(value) { throw failure(problem) }
        }
    }

    private func parseUnchecked(_ text: String) throws -> ConfigValue {
        // Config files end a value at ` #`, so such a value (possible only from the command line)
        // would not survive the resolved config written with the run.
        if text.hasPrefix("#") || text.contains(" #") || text.contains("\t#") || text.contains(where: \.isNewline) {
            throw failure("'\(text.excerpt)' cannot hold a newline or a '#' after a space (it starts a comment in config files)")
        }
        switch type {
        case .int:
            guard let v = Int(text) else { throw failure("expected an integer, got '\(text.excerpt)'") }
            return .int(v)
        case .float:
            guard let v = Self.double(text) else { throw failure("expected a number, got '\(text.excerpt)'") }
            return .float(v)
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "on", "1": return .bool(true)
            case "false", "no", "off", "0": return .bool(false)
            default: throw failure("expected true or false, got '\(text.excerpt)'")
            }
        case .string, .path:
            return .string(text)
        case .choice(let words):
            guard words.contains(text) else {
                throw failure("expected one of \(words.joined(separator: ", ")), got '\(text.excerpt)'"
                              + DidYouMean.hint(for: text, among: words))
            }
            return .string(text)
        case .intList:
            return .intList(try entries(text, "integers") { Int($0) })
        case .floatList:
            return .floatList(try entries(text, "numbers") { Self.double($0) })
        case .stringList:
            return .stringList(try entries(text, "words") { $0 })
        }
    }

    /// Splits a comma-separated list; an empty text is an empty list.
    private func entries<T>(_ text: String, _ what: String, _ parse: (String) -> T?) throws -> [T] {
        if text.isEmpty { return [] }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let entry = part.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty, let v = parse(entry) else {
                let bad = entry.isEmpty ? "an entry is empty" : "'\(entry.excerpt)' is not one of them"
                throw failure("expected a comma-separated list of \(what), got '\(text.excerpt)' (\(bad))")
            }
            return v
        }
    }

    /// A finite `Double`; `nan` and `inf` are not config values.
    private static func double(_ text: String) -> Double? {
        guard let v = Double(text), v.isFinite else { return nil }
        return v
    }

    private func failure(_ problem: String) -> ConfigError {
        ConfigError(at: nil, "key '\(name)': \(problem)")
    }
}
