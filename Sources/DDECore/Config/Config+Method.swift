extension Config {
    /// Each loss's own beta and learning-rate keys (nil: the loss has no key of its own, so
    /// `beta` or `lr` applies); DDE's ablations share DDE's.
    static func methodKeys(_ loss: String) -> (beta: String?, lr: String?) {
        switch loss {
        case "sft": (nil, "sft.lr")
        case "uniform": ("uniform.beta", "uniform.lr")
        case "discounted": ("discounted.beta", "discounted.lr")
        case "dde", "dde-single", "dde-step": ("dde.beta", "dde.lr")
        default: (nil, nil)
        }
    }

    /// The beta and learning rate a fine-tune with `loss` uses: the method's own keys
    /// (`uniform.beta`, `dde.lr`, ...) when set (non-zero), else `beta` and `lr`. Fair tuning
    /// (testbed.md) gives each method its own values; `scripts/sweep.sh` chooses them.
    public func methodSettings(_ loss: String) -> (beta: Double, lr: Double) {
        let own = Self.methodKeys(loss)
        let ownBeta = own.beta.map(double) ?? 0, ownLR = own.lr.map(double) ?? 0
        return (ownBeta > 0 ? ownBeta : double("beta"), ownLR > 0 ? ownLR : double("lr"))
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
        for key in [keys.beta, keys.lr].compactMap({ $0 }) { values[key] = "0" }
        return try overriding(values)
    }
}
