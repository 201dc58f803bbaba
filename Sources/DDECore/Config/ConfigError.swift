/// A config file, include or override that cannot be used. Its description is one line that
/// says where (`file:line`, a file, or `command line`), what failed, and what to do:
///
///     configs/x.conf:12: unknown key 'lrr' (did you mean 'lr'?)
///     command line: override 'threads=0': key 'threads': 0 is out of range 1...64
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// `configs/x.conf:12`, `configs/x.conf`, `command line`, or nil when the problem has no
    /// place yet (a value parsed outside a file).
    public let location: String?
    /// What failed, without the location.
    public let message: String

    public init(at location: String?, _ message: String) {
        self.location = location
        self.message = message
    }

    /// Control characters quoted from the file are escaped, so the line stays one line.
    public var description: String {
        ((location.map { "\($0): " } ?? "") + message).escapingControlCharacters
    }
}
