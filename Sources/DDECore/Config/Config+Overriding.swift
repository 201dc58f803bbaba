extension Config {
    /// This config with some keys set anew (as command-line overrides), validated like any other:
    /// how the main job derives each fine-tune's config (its loss, annotator and seed).
    public func overriding(_ values: [String: String]) throws -> Config {
        let current = settings.filter { values[$0.key.name] == nil }.map { "\($0.key.name)=\($0.value.text)" }
            + externalAnnotators.filter { values[$0.key] == nil }.map { "\($0.key)=\($0.command)" }
        let updated = try ConfigLoader.load(file: nil, overrides: current + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        return Config(name: name, sourceFile: sourceFile, settings: updated.settings, externalAnnotators: updated.externalAnnotators)
    }
}
