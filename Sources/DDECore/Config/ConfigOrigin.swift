/// Where a resolved config value came from.
public enum ConfigOrigin: Sendable, Equatable, CustomStringConvertible {
    /// The table's default (`ConfigKeys.all`).
    case defaultValue
    /// A `key = value` line of a config file (the path as the user or the include wrote it).
    case file(String, line: Int)
    /// A `key=value` override after the config file.
    case commandLine

    /// `default`, `configs/x.conf:12` or `command line`.
    public var description: String {
        switch self {
        case .defaultValue: "default"
        case .file(let path, let line): "\(path):\(line)"
        case .commandLine: "command line"
        }
    }
}
