import Foundation

/// Resolves a config from the table's defaults, a config file (with its includes) and
/// `key=value` overrides, in that order of precedence (later wins).
///
/// File syntax, one item a line:
///
///     # a whole-line comment
///     lr = 2e-5            # a trailing comment starts at ' #'
///     block_out_channels = 32,64
///     include = common.conf
///
/// - `include` is processed in place; its path is relative to the including file. Later lines
///   and later includes win over earlier ones, so the including file's lines after an
///   `include` override the included file's keys.
/// - A key set twice in one file is an error; set in an included file and in the including
///   file it is not (the later one wins).
/// - Overrides are `key=value` words after the file and win over everything.
///
/// Every value is parsed and checked where it appears, so an error names that `file:line`;
/// the checks between two keys run last, on the resolved values. Errors are `ConfigError`s.
public enum ConfigLoader {
    public static func load(file: String?, overrides: [String]) throws -> Config {
        var assigned: [String: Assignment] = [:]
        if let file {
            let absolute = URL(fileURLWithPath: file).standardizedFileURL.path
            let text = try readText(file, location: file, what: "cannot read the file")
            try readConfig(text, display: file, absolute: absolute, chain: [], into: &assigned)
        }
        for override in overrides {
            try applyOverride(override, into: &assigned)
        }

        let name = file.map(configName) ?? "default"
        let settings = ConfigKeys.all.map { key in
            var value = assigned[key.name]?.value ?? key.defaultValue
            // `out` is resolved here, so the resolved config (and a run loaded from it) names the folder.
            if key.name == "out", value == .string("") { value = .string("runs/\(name)") }
            return Config.Setting(key: key, value: value, origin: assigned[key.name]?.origin ?? .defaultValue)
        }
        // The `annotator.NAME` family, by name.
        let external = assigned.keys.sorted().compactMap { key -> ExternalAnnotatorKey? in
            guard let name = ExternalAnnotatorKey.name(ofKey: key), case .string(let command)? = assigned[key]?.value else { return nil }
            return ExternalAnnotatorKey(name: name, command: command, origin: assigned[key]!.origin)
        }
        let config = Config(name: name, sourceFile: file, settings: settings, externalAnnotators: external)
        try checkAcrossKeys(config)
        return config
    }

    /// A value and where it was set.
    private struct Assignment {
        let value: ConfigValue
        let origin: ConfigOrigin
    }

    /// `configs/smoke.conf` -> `smoke`.
    private static func configName(_ file: String) -> String {
        let base = (file as NSString).lastPathComponent
        return base.hasSuffix(".conf") ? String(base.dropLast(5)) : base
    }

    private static func readText(_ path: String, location: String, what: String) throws -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch let error as FileError {
            throw ConfigError(at: location, "\(what) (\(error.reason))")
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw ConfigError(at: location, "\(what) (it is not UTF-8 text)")
        }
        return text
    }

    /// Reads one file's lines into `assigned`. `display` is the path as written (for messages),
    /// `absolute` the standardized absolute path (for includes and cycles); `chain` holds the
    /// files that include this one, outermost first.
    private static func readConfig(_ text: String, display: String, absolute: String,
                                   chain: [(absolute: String, display: String)],
                                   into assigned: inout [String: Assignment]) throws {
        let chain = chain + [(absolute, display)]
        var firstLine: [String: Int] = [:]
        for (i, raw) in text.fileLines().enumerated() {
            let number = i + 1
            let location = "\(display):\(number)"
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let (key, value) = splitAssignment(stripComment(line)) else {
                throw ConfigError(at: location, "expected 'key = value', got '\(line.excerpt)'")
            }
            if key == "include" {
                try include(value, location: location, display: display, absolute: absolute,
                            chain: chain, into: &assigned)
                continue
            }
            if let first = firstLine[key] {
                throw ConfigError(at: location, "duplicate key '\(key)' (first set on line \(first))")
            }
            firstLine[key] = number
            if let name = ExternalAnnotatorKey.name(ofKey: key) {
                if let problem = ExternalAnnotatorKey.problem(name: name, command: value) {
                    throw ConfigError(at: location, "key '\(key.excerpt)': \(problem)")
                }
                assigned[key] = Assignment(value: .string(value), origin: .file(display, line: number))
                continue
            }
            guard let configKey = ConfigKeys.key(key) else {
                throw ConfigError(at: location, "unknown key '\(key.excerpt)'" + unknownKeyHint(key))
            }
            assigned[key] = Assignment(value: try parse(configKey, value, at: location), origin: .file(display, line: number))
        }
    }

    private static func include(_ target: String, location: String, display: String, absolute: String,
                                chain: [(absolute: String, display: String)],
                                into assigned: inout [String: Assignment]) throws {
        guard !target.isEmpty else {
            throw ConfigError(at: location, "include needs a file name, e.g. 'include = common.conf'")
        }
        let isAbsolute = target.hasPrefix("/")
        let folder = (display as NSString).deletingLastPathComponent
        let includedDisplay = isAbsolute || folder.isEmpty ? target : (folder as NSString).appendingPathComponent(target)
        let base = isAbsolute ? target : ((absolute as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        let includedAbsolute = URL(fileURLWithPath: base).standardizedFileURL.path
        if let start = chain.firstIndex(where: { $0.absolute == includedAbsolute }) {
            let cycle = chain[start...].map(\.display) + [includedDisplay]
            throw ConfigError(at: location, "include cycle: " + cycle.joined(separator: " -> "))
        }
        guard FileManager.default.fileExists(atPath: includedAbsolute) else {
            throw ConfigError(at: location, "include '\(target)' not found (looked for \(includedAbsolute))")
        }
        let text = try readText(includedAbsolute, location: location, what: "include '\(target)': cannot read the file")
        try readConfig(text, display: includedDisplay, absolute: includedAbsolute, chain: chain, into: &assigned)
    }

    private static func applyOverride(_ word: String, into assigned: inout [String: Assignment]) throws {
        func failure(_ problem: String) -> ConfigError {
            ConfigError(at: "command line", "override '\(word.excerpt)': \(problem)")
        }
        guard let (key, value) = splitAssignment(word) else {
            let hint = word.hasSuffix(".conf") ? " (to load a config file, use --config \(word))" : ""
            throw failure("expected 'key=value'" + hint)
        }
        if key == "include" { throw failure("include works only inside config files") }
        if let name = ExternalAnnotatorKey.name(ofKey: key) {
            if let problem = ExternalAnnotatorKey.problem(name: name, command: value) { throw failure(problem) }
            assigned[key] = Assignment(value: .string(value), origin: .commandLine)
            return
        }
        guard let configKey = ConfigKeys.key(key) else {
            throw failure("unknown key '\(key.excerpt)'" + unknownKeyHint(key))
        }
        do {
            assigned[key] = Assignment(value: try configKey.parse(value), origin: .commandLine)
        } catch let error as ConfigError {
            throw failure(error.message)
        }
    }

    /// `key = value` -> (key, value), both trimmed; nil without `=`, with an empty key or a key
    /// holding spaces.
    private static func splitAssignment(_ text: String) -> (String, String)? {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        let key = text[..<eq].trimmingCharacters(in: .whitespaces)
        let value = text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, !key.contains(where: \.isWhitespace) else { return nil }
        return (key, value)
    }

    /// Cuts a trailing comment: a `#` preceded by a space or tab, and everything after it.
    private static func stripComment(_ line: String) -> String {
        var previous: Character = "x"
        for i in line.indices {
            if line[i] == "#", previous == " " || previous == "\t" { return String(line[..<i]) }
            previous = line[i]
        }
        return line
    }

    private static func parse(_ key: ConfigKey, _ text: String, at location: String) throws -> ConfigValue {
        do {
            return try key.parse(text)
        } catch let error as ConfigError {
            throw ConfigError(at: location, error.message)
        }
    }

    private static func unknownKeyHint(_ key: String) -> String {
        let hint = DidYouMean.hint(for: key, among: ConfigKeys.all.map(\.name))
        return hint.isEmpty ? " (run 'dde-train config' to list the keys)" : hint
    }

    // MARK: - Checks between keys

    /// The checks that involve two keys, on resolved values. Defaults pass them all (a test
    /// holds this), so a failure always has a non-default key to point at.
    private static func checkAcrossKeys(_ config: Config) throws {
        try checkAnnotatorNames(config)
        let channels = config.intList("block_out_channels")
        let groups = config.int("norm_num_groups")
        if let bad = channels.first(where: { $0 % groups != 0 }) {
            throw crossKey(config, "norm_num_groups", "block_out_channels",
                           "\(groups) does not divide \(bad); GroupNorm needs every block_out_channels entry to be a multiple of norm_num_groups")
        }
        // Every down block but the last halves the image (diffusers UNet2DModel), and the up
        // path must meet the skips at the same sizes.
        let size = config.int("sample_size")
        let factor = 1 << (channels.count - 1)
        if size % factor != 0 {
            throw crossKey(config, "sample_size", "block_out_channels",
                           "\(size) is not a multiple of \(factor) = 2^(\(channels.count)-1); each of the \(channels.count) levels but the last halves the image")
        }
        if config.choice("model.class", as: ModelClass.self) == .unet2DCondition {
            try checkConditionModel(config)
        }
        let betaStart = config.double("beta_start"), betaEnd = config.double("beta_end")
        if !(betaStart < betaEnd) {
            throw crossKey(config, "beta_start", "beta_end", "beta_start must be below beta_end")
        }
        if !(config.double("smpo.score_min") < config.double("smpo.score_max")) {
            throw crossKey(config, "smpo.score_min", "smpo.score_max", "smpo.score_min must be below smpo.score_max (they map the annotator's scores to 0 and 1)")
        }
        let batch = config.int("pretrain.batch"), accum = config.int("pretrain.grad_accum")
        if batch % accum != 0 {
            throw crossKey(config, "pretrain.grad_accum", "pretrain.batch",
                           "\(accum) does not divide \(batch); the batch is split into pretrain.grad_accum equal micro-batches")
        }
        let pairs = config.int("batch"), microBatches = config.int("train.grad_accum")
        if pairs % microBatches != 0 {
            throw crossKey(config, "train.grad_accum", "batch",
                           "\(microBatches) does not divide \(pairs); a step's pairs are split into train.grad_accum equal micro-batches")
        }
        // AdamW's decoupled decay multiplies every weight by (1 - lr x weight_decay) each step: at
        // 1 or more it zeroes or flips the weights, whatever the gradients say.
        let decay = config.double("weight_decay")
        for key in ["lr", "pretrain.lr", "sft.lr", "uniform.lr", "discounted.lr", "dde.lr", "dde-single.lr", "dde-step.lr"] {
            let lr = config.double(key)
            if lr * decay >= 1 {
                throw crossKey(config, "weight_decay", key,
                               "\(key) x weight_decay = \(lr * decay) >= 1; the decoupled decay multiplies the weights by 1 - lr x weight_decay each step")
            }
        }
        if config.int("lora.rank") > 0 {
            // The U-Net's slot names from the config alone (nothing is allocated before seal).
            let store = ParameterStore(), settings = ModelSettings(config)
            switch settings.modelClass {
            case .unet2D: _ = UNet2DModel(settings.unet, store: store, workspace: Workspace(threads: 1))
            case .unet2DCondition: _ = UNet2DConditionModel(settings.conditionUNet, store: store, workspace: Workspace(threads: 1))
            }
            if let target = LoRAAdapters.unmatchedTarget(config.stringList("lora.targets"), candidates: store.linearWeightSlots) {
                throw crossKey(config, "lora.targets", "model.class",
                               "'\(target)' matches no linear layer of this \(settings.modelClass.rawValue) (module names end in to_q, to_k, to_v, to_out.0, ff.net.2, ...; the attention-free UNet2DModel has no attention projections)")
            }
        }
        let buckets = config.int("dde.record_buckets"), T = config.int("timesteps")
        if buckets > T {
            throw crossKey(config, "dde.record_buckets", "timesteps",
                           "\(buckets) entries for \(T) steps; a record has at most one entry per step")
        }
        for (key, ranges) in [("t_range", [config.string("t_range")]), ("compare.t_range", config.stringList("compare.t_range"))] {
            for range in ranges {
                do {
                    _ = try TimestepRange.parse(range, T: T)
                } catch {
                    throw crossKey(config, key, "timesteps", "\(error)")
                }
            }
        }
    }

    /// Every annotator a key names is a built-in one or defined by an `annotator.NAME` key.
    private static func checkAnnotatorNames(_ config: Config) throws {
        let known = config.annotatorNames
        func problem(_ name: String) -> String? {
            known.contains(name) ? nil : "'\(name.excerpt)' is not an annotator (\(known.joined(separator: ", ")); "
                + "define an external one with annotator.\(name.excerpt) = COMMAND)" + DidYouMean.hint(for: name, among: known)
        }
        func fail(_ key: String, _ problem: String) -> ConfigError {
            switch config.origin(key) {
            case .commandLine: ConfigError(at: "command line", "override '\(key)=\(config.value(key).text.excerpt)': key '\(key)': \(problem)")
            case .file(let path, let line): ConfigError(at: "\(path):\(line)", "key '\(key)': \(problem)")
            case .defaultValue: ConfigError(at: nil, "key '\(key)': \(problem)")
            }
        }
        if let p = problem(config.string("annotator")) { throw fail("annotator", p) }
        for name in config.stringList("compare.annotators") { if let p = problem(name) { throw fail("compare.annotators", p) } }
        for key in Config.byAnnotator.map(\.value) {
            for entry in config.stringList(key) {
                if let name = entry.split(separator: ":").first.map(String.init), let p = problem(name) { throw fail(key, p) }
            }
        }
    }

    /// The cross-attention U-Net's keys against each other: one entry per level, heads that
    /// divide their level's channels, text-encoder heads that divide its width.
    private static func checkConditionModel(_ config: Config) throws {
        let levels = config.intList("block_out_channels").count
        for key in ["down_block_types", "up_block_types"] where config.stringList(key).count != levels {
            throw crossKey(config, key, "block_out_channels", "\(config.stringList(key).count) entries for \(levels) levels; one block type per level")
        }
        let headsKey = config.intList("num_attention_heads").isEmpty ? "attention_head_dim" : "num_attention_heads"
        for key in [headsKey, "transformer_layers_per_block"] where ![1, levels].contains(config.intList(key).count) {
            throw crossKey(config, key, "block_out_channels", "\(config.intList(key).count) entries for \(levels) levels; give one value or one per level")
        }
        let shape = ModelSettings.conditionConfig(config)
        if let problem = shape.problem {
            throw crossKey(config, headsKey, "block_out_channels", problem)
        }
        let width = config.int("cross_attention_dim"), heads = config.int("text_encoder.heads")
        if width % heads != 0 {
            throw crossKey(config, "text_encoder.heads", "cross_attention_dim", "\(heads) heads do not divide the text encoder's width \(width)")
        }
    }

    /// `<where>: keys 'a' (value, origin) and 'b' (value, origin): problem`, located where the
    /// stronger of the two was set (command line over file over default; `a` on a tie).
    private static func crossKey(_ config: Config, _ a: String, _ b: String, _ problem: String) -> ConfigError {
        func rank(_ origin: ConfigOrigin) -> Int {
            switch origin {
            case .defaultValue: 0
            case .file: 1
            case .commandLine: 2
            }
        }
        let sa = config.setting(a), sb = config.setting(b)
        let strongest = rank(sb.origin) > rank(sa.origin) ? sb.origin : sa.origin
        let location = strongest == .defaultValue ? nil : strongest.description
        return ConfigError(at: location, "keys '\(a)' (\(sa.value.text), \(sa.origin)) and '\(b)' (\(sb.value.text), \(sb.origin)): \(problem)")
    }
}
