// Config: keys, config files and the resolved config. `ConfigKeys` is the one table of keys (type,
// default, unit, checks, and the stages each key affects, `Stage`); `ConfigLoader` resolves the
// defaults, a config file with its includes and `key=value` overrides into a `Config`, failing with
// a one-line `ConfigError` that names the file and line. Stages and commands read the typed
// `RunSettings` (Settings), never a key by name (KeyTableTests). Uses IO to read files and save
// the resolved config; choice keys take their words from the numeric core, Settings and Annotators.

import Foundation

/// A resolved config: every key of `ConfigKeys.all`, in table order, with its value and where
/// the value came from. Made by `ConfigLoader.load(file:overrides:)`; printed at the start of a
/// run and saved with it (`writeResolved(to:)`).
///
/// The typed accessors take a key name from the table. Asking for a key that is not in the
/// table, or with the wrong type, is a programmer error and stops the program (`fatalError`,
/// not `preconditionFailure`: release builds use `-Ounchecked`, which assumes preconditions
/// hold instead of checking them).
public struct Config: Sendable {
    /// One key's resolved value.
    public struct Setting: Sendable {
        public let key: ConfigKey
        public let value: ConfigValue
        public let origin: ConfigOrigin
    }

    /// The file name `writeResolved(to:)` writes inside the run folder.
    public static let resolvedFileName = "config.resolved.conf"

    /// The config file's base name without `.conf` (`smoke`), or `default` without a file.
    public let name: String
    /// The config file as given, or nil.
    public let sourceFile: String?
    /// Every key, in `ConfigKeys.all` order.
    public let settings: [Setting]
    /// The `annotator.NAME = COMMAND` keys, by name: the family outside the table.
    public let externalAnnotators: [ExternalAnnotatorKey]

    init(name: String, sourceFile: String?, settings: [Setting], externalAnnotators: [ExternalAnnotatorKey] = []) {
        guard settings.map(\.key.name) == ConfigKeys.all.map(\.name) else { fatalError("Config: settings must follow ConfigKeys.all") }
        self.name = name
        self.sourceFile = sourceFile
        self.settings = settings
        self.externalAnnotators = externalAnnotators
    }

    /// Every annotator a key may name: the built-in three, then the external ones.
    public var annotatorNames: [String] { ExternalAnnotatorKey.builtInNames + externalAnnotators.map(\.name) }

    /// The run folder: the `out` key, which the loader already resolved from empty to
    /// `runs/<name>`.
    public var outDirectory: String { string("out") }

    public func setting(_ key: String) -> Setting {
        guard let i = ConfigKeys.index[key] else { fatalError("Config: no key '\(key)' in ConfigKeys.all") }
        return settings[i]
    }

    public func value(_ key: String) -> ConfigValue { setting(key).value }

    public func origin(_ key: String) -> ConfigOrigin { setting(key).origin }

    public func int(_ key: String) -> Int {
        guard case .int(let v) = value(key) else { wrongType(key, "int") }
        return v
    }

    public func double(_ key: String) -> Double {
        guard case .float(let v) = value(key) else { wrongType(key, "float") }
        return v
    }

    /// A `float` key rounded to `Float`, for the numeric core.
    public func float(_ key: String) -> Float { Float(double(key)) }

    public func bool(_ key: String) -> Bool {
        guard case .bool(let v) = value(key) else { wrongType(key, "bool") }
        return v
    }

    /// A `string`, `path` or `choice` key.
    public func string(_ key: String) -> String {
        guard case .string(let v) = value(key) else { wrongType(key, "string, path or choice") }
        return v
    }

    /// A `choice` key as the enum its words came from (`ConfigType.choice(of:)`).
    public func choice<E: RawRepresentable>(_ key: String, as _: E.Type = E.self) -> E where E.RawValue == String {
        guard let v = E(rawValue: string(key)) else { fatalError("Config: key '\(key)' = '\(string(key))' is not a \(E.self)") }
        return v
    }

    public func intList(_ key: String) -> [Int] {
        guard case .intList(let v) = value(key) else { wrongType(key, "int list") }
        return v
    }

    public func doubleList(_ key: String) -> [Double] {
        guard case .floatList(let v) = value(key) else { wrongType(key, "float list") }
        return v
    }

    public func stringList(_ key: String) -> [String] {
        guard case .stringList(let v) = value(key) else { wrongType(key, "string list") }
        return v
    }

    private func wrongType(_ key: String, _ asked: String) -> Never {
        fatalError("Config: key '\(key)' is \(setting(key).key.type.name), not \(asked)")
    }

    /// The resolved config as a config file: a header comment, then `key = value` for every key
    /// in table order, under `# section` lines, each non-default with a trailing comment saying
    /// where it came from. Loading this text gives the same value for every key.
    public func rendered() -> String {
        let width = settings.map(\.key.name.count).max() ?? 0
        var out = "# dde-train \(DDEVersion.string): resolved config '\(name)'"
        out += sourceFile.map { " from \($0)" } ?? " (no config file)"
        out += "\n# Every key in table order; a trailing comment says where a value not from the defaults was set.\n"
        var section = ""
        for s in settings {
            if s.key.section != section {
                section = s.key.section
                out += "\n# \(section)\n"
            }
            let text = s.value.text
            var line = s.key.name.padding(toLength: width, withPad: " ", startingAt: 0) + " =" + (text.isEmpty ? "" : " \(text)")
            if s.origin != .defaultValue { line += "  # \(s.origin)" }
            out += line + "\n"
        }
        if !externalAnnotators.isEmpty {
            out += "\n# external annotators (annotator.NAME = COMMAND)\n"
            for a in externalAnnotators { out += "\(a.key) = \(a.command)  # \(a.origin)\n" }
        }
        return out
    }

    /// Writes `rendered()` to `directory/config.resolved.conf` (creating the folder), crash-safely:
    /// a temporary file in the same folder, fsync, then rename over the old one.
    public func writeResolved(to directory: String) throws {
        try FileIO.createFolder(directory)
        let path = (directory as NSString).appendingPathComponent(Self.resolvedFileName)
        try FileIO.writeAtomically(Array(rendered().utf8), to: path)
    }
}
