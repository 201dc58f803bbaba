/// A validator of one key's parsed value, with the one-line summary the key table shows.
///
/// The common ones are static members (`.range(1...64)`, `.atLeast(0)`, `.positive`,
/// `.eachAtLeast(8)`, `.count(1...4)`); `ConfigCheck(summary) { value in ... }` makes any
/// other. A check returns nil when the value is fine and otherwise the problem, phrased to
/// follow `key 'threads': `, e.g. `0 is out of range 1...64`.
///
/// Checks that involve two keys (`norm_num_groups` divides every `block_out_channels` entry)
/// live in `ConfigLoader`, after every key is resolved. A check given a value of a type it does
/// not handle (`.range(1...4)` on a list) is a bug in the table and stops the program.
public struct ConfigCheck: Sendable {
    /// Shown in the `allowed` column: `1...64`, `>= 0`, `each >= 8`.
    public let summary: String
    let problem: @Sendable (ConfigValue) -> String?

    public init(_ summary: String, _ problem: @escaping @Sendable (ConfigValue) -> String?) {
        self.summary = summary
        self.problem = problem
    }

    /// The problem with `value`, or nil if it passes.
    public func check(_ value: ConfigValue) -> String? { problem(value) }

    /// An int in `lo...hi`, both ends included.
    public static func range(_ r: ClosedRange<Int>) -> ConfigCheck {
        let summary = "\(r.lowerBound)...\(r.upperBound)"
        return ConfigCheck(summary) { value in
            guard case .int(let v) = value else { fatalError("range(Int) on \(value)") }
            return r.contains(v) ? nil : "\(v) is out of range \(summary)"
        }
    }

    /// A float in `lo...hi`, both ends included.
    public static func range(_ r: ClosedRange<Double>) -> ConfigCheck {
        let summary = "\(r.lowerBound)...\(r.upperBound)"
        return ConfigCheck(summary) { value in
            guard case .float(let v) = value else { fatalError("range(Double) on \(value)") }
            return r.contains(v) ? nil : "\(v) is out of range \(summary)"
        }
    }

    /// A float in `lo..<hi`: `lo` included, `hi` not (an Adam beta is below 1).
    public static func range(_ r: Range<Double>) -> ConfigCheck {
        let summary = "\(r.lowerBound)..<\(r.upperBound)"
        return ConfigCheck(summary) { value in
            guard case .float(let v) = value else { fatalError("range(Range<Double>) on \(value)") }
            return r.contains(v) ? nil : "\(v) is out of range \(summary)"
        }
    }

    /// An int `>= lo`.
    public static func atLeast(_ lo: Int) -> ConfigCheck {
        ConfigCheck(">= \(lo)") { value in
            guard case .int(let v) = value else { fatalError("atLeast(Int) on \(value)") }
            return v >= lo ? nil : "\(v) must be >= \(lo)"
        }
    }

    /// A float `>= lo`.
    public static func atLeast(_ lo: Double) -> ConfigCheck {
        ConfigCheck(">= \(lo)") { value in
            guard case .float(let v) = value else { fatalError("atLeast(Double) on \(value)") }
            return v >= lo ? nil : "\(v) must be >= \(lo)"
        }
    }

    /// An int or float `> 0`.
    public static let positive = ConfigCheck("> 0") { value in
        switch value {
        case .int(let v): v > 0 ? nil : "\(v) must be > 0"
        case .float(let v): v > 0 ? nil : "\(v) must be > 0"
        default: fatalError("positive on \(value)")
        }
    }

    /// A string list of `annotator:value` entries: an annotator at most once, each value a finite
    /// number > 0 (that the annotator exists, built in or `annotator.NAME`, is checked across keys).
    public static let annotatorValues = ConfigCheck("annotator:value entries, value > 0") { value in
        guard case .stringList(let list) = value else { fatalError("annotatorValues on \(value)") }
        var seen: Set<String> = []
        for entry in list {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { return "'\(entry)' is not annotator:value" }
            guard let v = Double(parts[1]), v.isFinite, v > 0 else { return "'\(parts[1])' for \(parts[0]) must be a number > 0" }
            guard seen.insert(parts[0]).inserted else { return "\(parts[0]) is listed twice" }
        }
        return nil
    }

    /// Every entry of an int list `>= lo`.
    public static func eachAtLeast(_ lo: Int) -> ConfigCheck {
        ConfigCheck("each >= \(lo)") { value in
            guard case .intList(let list) = value else { fatalError("eachAtLeast on \(value)") }
            guard let i = list.firstIndex(where: { $0 < lo }) else { return nil }
            return "entry \(i + 1) (\(list[i])) must be >= \(lo)"
        }
    }

    /// Every entry of a float list `> 0`.
    public static let eachPositive = ConfigCheck("each > 0") { value in
        guard case .floatList(let list) = value else { fatalError("eachPositive on \(value)") }
        guard let i = list.firstIndex(where: { !($0 > 0) }) else { return nil }
        return "entry \(i + 1) (\(list[i])) must be > 0"
    }

    /// Every entry of a string list one of `words` (with a did-you-mean).
    public static func eachOneOf(_ words: [String]) -> ConfigCheck {
        ConfigCheck("each one of \(words.joined(separator: ", "))") { value in
            guard case .stringList(let list) = value else { fatalError("eachOneOf on \(value)") }
            guard let bad = list.first(where: { !words.contains($0) }) else { return nil }
            return "'\(bad.excerpt)' is not one of \(words.joined(separator: ", "))" + DidYouMean.hint(for: bad, among: words)
        }
    }

    /// No entry twice (a seed or a method listed twice would run one fine-tune into one folder twice).
    public static let distinct = ConfigCheck("no entry twice") { value in
        let texts: [String]
        switch value {
        case .intList(let l): texts = l.map(String.init)
        case .floatList(let l): texts = l.map { String($0) }
        case .stringList(let l): texts = l
        default: fatalError("distinct on \(value)")
        }
        var seen: Set<String> = []
        guard let twice = texts.first(where: { !seen.insert($0).inserted }) else { return nil }
        return "'\(twice.excerpt)' is listed twice"
    }

    /// Empty, or a file that exists and can be read as one (not a folder or a device): the
    /// input files (`checkpoint`, `base`, `pairs`), checked when the config is loaded instead of
    /// after the stages before the one that reads them.
    public static let existingFileOrEmpty = ConfigCheck("empty or an existing file") { value in
        guard case .string(let path) = value else { fatalError("existingFileOrEmpty on \(value)") }
        return path.isEmpty ? nil : FileIO.problemReadingFile(path)
    }

    /// Empty, a model file that exists, or `diffusers:DIR` naming a folder that exists (a
    /// diffusers `UNet2DConditionModel` folder or a pipeline folder holding `unet/`): `checkpoint`, `base`.
    public static let modelSourceOrEmpty = ConfigCheck("empty, an existing file or diffusers:DIR") { value in
        guard case .string(let text) = value else { fatalError("modelSourceOrEmpty on \(value)") }
        if text.isEmpty { return nil }
        if text.hasPrefix(DiffusersImport.prefix) {
            return FileIO.problemWithFolder(String(text.dropFirst(DiffusersImport.prefix.count)), what: "a diffusers folder")
        }
        return FileIO.problemReadingFile(text)
    }

    /// `resume`: empty (a fresh run), `auto` (the newest checkpoint in the run folder, if any) or
    /// a checkpoint file that exists.
    public static let resumeTarget = ConfigCheck("empty, auto or a checkpoint file") { value in
        guard case .string(let text) = value else { fatalError("resumeTarget on \(value)") }
        if text.isEmpty || text == "auto" { return nil }
        return FileIO.problemReadingFile(text).map { "\($0) (use auto, a checkpoint path, or leave it empty)" }
    }

    /// Empty, or a folder that exists (`reuse`: a run folder to copy finished stages from; a
    /// mistyped one would otherwise copy nothing without a word).
    public static let existingFolderOrEmpty = ConfigCheck("empty or an existing folder") { value in
        guard case .string(let path) = value else { fatalError("existingFolderOrEmpty on \(value)") }
        return path.isEmpty ? nil : FileIO.problemWithFolder(path, what: "a run folder")
    }

    /// `data`: `world` or `folder:PATH` naming a folder that exists.
    public static let dataSource = ConfigCheck("world or folder:PATH") { value in
        guard case .string(let text) = value else { fatalError("dataSource on \(value)") }
        if text == "world" { return nil }
        guard text.hasPrefix("folder:") else {
            return "'\(text.excerpt)' is neither 'world' nor 'folder:PATH'" + DidYouMean.hint(for: text, among: ["world"])
        }
        return FileIO.problemWithFolder(String(text.dropFirst("folder:".count)), what: "a folder of images")
    }

    /// A list with `lo...hi` entries.
    public static func count(_ r: ClosedRange<Int>) -> ConfigCheck {
        ConfigCheck("\(r.lowerBound)...\(r.upperBound) entries") { value in
            let n: Int
            switch value {
            case .intList(let l): n = l.count
            case .floatList(let l): n = l.count
            case .stringList(let l): n = l.count
            default: fatalError("count on \(value)")
            }
            return r.contains(n) ? nil : "has \(n) entries, expected \(r.lowerBound)...\(r.upperBound)"
        }
    }
}
