/// The type of a config key: how its text parses and how its value renders.
///
/// `path` is a `string` that names a file or folder (relative paths are relative to the
/// working directory dde-train runs in, not to the config file). `choice` is a `string` that
/// must be one of the listed words. Lists are comma separated: `32,64`.
public enum ConfigType: Sendable, Equatable {
    case int
    /// A `Double`.
    case float
    case bool
    case string
    case path
    case intList
    case floatList
    case stringList
    case choice([String])

    /// A choice among the raw values of the enum the code switches on: the allowed words are
    /// declared once, by the enum, and decoding (`Config.choice`) cannot fail.
    public static func choice<E: CaseIterable & RawRepresentable>(of _: E.Type) -> ConfigType where E.RawValue == String {
        .choice(E.allCases.map(\.rawValue))
    }

    /// The name shown in `dde-train config` and the README.
    public var name: String {
        switch self {
        case .int: "int"
        case .float: "float"
        case .bool: "bool"
        case .string: "string"
        case .path: "path"
        case .intList: "int list"
        case .floatList: "float list"
        case .stringList: "string list"
        case .choice: "choice"
        }
    }
}
