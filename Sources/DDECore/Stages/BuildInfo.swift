/// Which dde-train wrote a file: the version and the git commit of the build (the executable
/// finds the commit; the core only records it).
public struct BuildInfo: Sendable {
    public let version: String
    public let commit: String

    public init(version: String = DDEVersion.string, commit: String) {
        self.version = version
        self.commit = commit
    }
}
