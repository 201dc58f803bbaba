/// A file or folder that could not be read or written. One line, e.g.
/// `runs/smoke/config.resolved.conf: cannot write the file (No space left on device)`.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    /// `read the file`, `write the file`, `create the folder`, ...
    public let action: String
    /// The system's reason (`strerror`).
    public let reason: String

    public init(path: String, action: String, reason: String) {
        self.path = path
        self.action = action
        self.reason = reason
    }

    public var description: String { "\(path): cannot \(action) (\(reason))" }
}
