extension Config {
    /// Each loss's own beta and learning-rate keys, first the one that wins (empty: the loss has
    /// no key of its own, so `beta` or `lr` applies). DDE's ablations have their own, and fall
    /// back to DDE's.
    static func methodKeys(_ loss: String) -> (beta: [String], lr: [String]) {
        switch loss {
        case "sft": ([], ["sft.lr"])
        case "uniform": (["uniform.beta"], ["uniform.lr"])
        case "discounted": (["discounted.beta"], ["discounted.lr"])
        case "dde": (["dde.beta"], ["dde.lr"])
        case "dde-single": (["dde-single.beta", "dde.beta"], ["dde-single.lr", "dde.lr"])
        case "dde-step": (["dde-step.beta", "dde.beta"], ["dde-step.lr", "dde.lr"])
        case "ipo", "hinge", "kto", "mapo", "dspo", "inpo", "smpo": (["\(loss).beta"], ["\(loss).lr"])
        default: ([], [])
        }
    }

    /// Each method key's per-annotator companion (`annotator:value` entries), named here in full.
    static let byAnnotator: KeyValuePairs<String, String> = [
        "sft.lr": "sft.lr.by_annotator", "uniform.beta": "uniform.beta.by_annotator", "uniform.lr": "uniform.lr.by_annotator",
        "discounted.beta": "discounted.beta.by_annotator", "discounted.lr": "discounted.lr.by_annotator",
        "dde.beta": "dde.beta.by_annotator", "dde.lr": "dde.lr.by_annotator",
        "dde-single.beta": "dde-single.beta.by_annotator", "dde-single.lr": "dde-single.lr.by_annotator",
        "dde-step.beta": "dde-step.beta.by_annotator", "dde-step.lr": "dde-step.lr.by_annotator",
        "ipo.beta": "ipo.beta.by_annotator", "ipo.lr": "ipo.lr.by_annotator",
        "hinge.beta": "hinge.beta.by_annotator", "hinge.lr": "hinge.lr.by_annotator",
        "kto.beta": "kto.beta.by_annotator", "kto.lr": "kto.lr.by_annotator",
        "mapo.beta": "mapo.beta.by_annotator", "mapo.lr": "mapo.lr.by_annotator",
        "dspo.beta": "dspo.beta.by_annotator", "dspo.lr": "dspo.lr.by_annotator",
        "inpo.beta": "inpo.beta.by_annotator", "inpo.lr": "inpo.lr.by_annotator",
        "smpo.beta": "smpo.beta.by_annotator", "smpo.lr": "smpo.lr.by_annotator",
    ]

    static func byAnnotatorKey(_ key: String) -> String {
        guard let name = byAnnotator.first(where: { $0.key == key })?.value else { fatalError("no per-annotator key for '\(key)'") }
        return name
    }

    /// Every method's own beta and lr keys (each has its per-annotator companion).
    static var allMethodKeys: [String] { byAnnotator.map(\.key) }

    /// The beta and learning rate a fine-tune with `loss` uses: the first of the method's own
    /// keys (`uniform.beta`, `dde-step.lr`, then `dde.lr`, ...) that is set (non-zero), else
    /// `beta` and `lr`. Fair tuning (testbed.md) gives each method its own values;
    /// `scripts/sweep.sh` chooses them.
    ///
    /// With `annotator` (the one whose pairs the fine-tune trains on), each key's
    /// `.by_annotator` entry for it comes first: `dde-single.beta.by_annotator`,
    /// `dde-single.beta`, `dde.beta.by_annotator`, `dde.beta`, then `beta`.
    ///
    /// The newer losses' own betas default to their authors' values (`ipo.beta` 2500, ...), not 0:
    /// such a default gives way to a `beta` set in the file or on the command line, so that
    /// `loss=ipo beta=100` trains at 100, as it would for the paper's losses.
    public func methodSettings(_ loss: String, annotator: String? = nil) -> (beta: Double, lr: Double) {
        let own = Self.methodKeys(loss)
        func value(_ key: String, general: String) -> Double? {
            if let annotator, let entry = annotatorValue(Self.byAnnotatorKey(key), annotator) { return entry }
            let v = double(key)
            guard v > 0 else { return nil }
            return origin(key) == .defaultValue && origin(general) != .defaultValue ? nil : v
        }
        let ownBeta = own.beta.lazy.compactMap { value($0, general: "beta") }.first
        let ownLR = own.lr.lazy.compactMap { value($0, general: "lr") }.first
        return (ownBeta ?? double("beta"), ownLR ?? double("lr"))
    }

    /// The value `annotator` has in the `annotator:value` list `key`, if listed.
    func annotatorValue(_ key: String, _ annotator: String) -> Double? {
        for entry in stringList(key) {
            let parts = entry.split(separator: ":")
            if parts.count == 2 && parts[0] == annotator { return Double(parts[1]) }
        }
        return nil
    }

    /// This config for one fine-tune: `loss` set, and `beta` and `lr` resolved for that loss
    /// (or set to the given values: a grid point of a sweep). Every method's own keys are then
    /// cleared, so resolving again changes nothing and no other method's values enter the
    /// fine-tune's signature.
    public func forMethod(_ loss: String, beta: Double? = nil, lr: Double? = nil, extra: [String: String] = [:]) throws -> Config {
        let own = methodSettings(loss, annotator: extra["annotator"] ?? string("annotator"))
        var values = extra
        values["loss"] = loss
        values["beta"] = String(beta ?? own.beta)
        values["lr"] = String(lr ?? own.lr)
        // Every method's own keys are cleared, not only this one's: a fine-tune's config (and so
        // its signature) holds the beta and lr it trains with and nothing of the other methods'.
        for key in Self.allMethodKeys {
            values[key] = "0"
            values[Self.byAnnotatorKey(key)] = ""
        }
        return try overriding(values)
    }
}
