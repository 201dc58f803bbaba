/// A parsed config value. `string`, `path` and `choice` keys all hold a `.string`.
public enum ConfigValue: Sendable, Equatable {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    case intList([Int])
    case floatList([Double])
    case stringList([String])

    /// The value as config-file text; parsing it with the same key gives the value back.
    ///
    /// Doubles use Swift's shortest round-trip form (`2e-05`, `0.00085`), so no digit is lost.
    public var text: String {
        switch self {
        case .int(let v): String(v)
        case .float(let v): String(v)
        case .bool(let v): v ? "true" : "false"
        case .string(let v): v
        case .intList(let v): v.map(String.init).joined(separator: ",")
        case .floatList(let v): v.map { String($0) }.joined(separator: ",")
        case .stringList(let v): v.joined(separator: ",")
        }
    }
}
