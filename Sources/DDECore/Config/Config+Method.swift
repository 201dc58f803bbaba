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
        default: ([], [])
        }
    }

    /// The beta and learning rate a fine-tune with `loss` uses: the first of the method's own
    /// keys (`uniform.beta`, `dde-step.lr`, then `dde.lr`, ...) that is set (non-zero), else
    /// `beta` and `lr`. Fair tuning (testbed.md) gives each method its own values;
    /// `scripts/sweep.sh` chooses them.
    public func methodSettings(_ loss: String) -> (beta: Double, lr: Double) {
        let own = Self.methodKeys(loss)
        let ownBeta = own.beta.map(double).first { $0 > 0 }, ownLR = own.lr.map(double).first { $0 > 0 }
        return (ownBeta ?? double("beta"), ownLR ?? double("lr"))
    }

    /// This config for one fine-tune: `loss` set, and `beta` and `lr` resolved for that loss
    /// (or set to the given values: a grid point of a sweep). The method's own keys are then
    /// cleared, so resolving again changes nothing.
    public func forMethod(_ loss: String, beta: Double? = nil, lr: Double? = nil, extra: [String: String] = [:]) throws -> Config {
        let own = methodSettings(loss)
        var values = extra
        values["loss"] = loss
        values["beta"] = String(beta ?? own.beta)
        values["lr"] = String(lr ?? own.lr)
        let keys = Self.methodKeys(loss)
        for key in keys.beta + keys.lr { values[key] = "0" }
        return try overriding(values)
    }
}
