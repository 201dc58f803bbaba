extension String {
    /// The text as error messages quote it: whole when short, else its first 60 characters and
    /// its length, so a 10 MB config line does not come back whole on the terminal.
    public var excerpt: String {
        count <= 80 ? self : String(prefix(60)) + "... (\(count) characters)"
    }
}
