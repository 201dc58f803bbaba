extension Config {
    /// The key prefix of a loss's own beta and learning rate: DDE's ablations share DDE's.
    static func methodPrefix(_ loss: String) -> String {
        loss.hasPrefix("dde") ? "dde" : loss
    }

    /// The beta and learning rate a fine-tune with `loss` uses: the method's own keys
    /// (`uniform.beta`, `dde.lr`, ...) when set (non-zero), else `beta` and `lr`. Fair tuning
    /// (testbed.md) gives each method its own values; `scripts/sweep.sh` chooses them.
    public func methodSettings(_ loss: String) -> (beta: Double, lr: Double) {
        let prefix = Self.methodPrefix(loss)
        let ownBeta = ConfigKeys.key(prefix + ".beta") != nil ? double(prefix + ".beta") : 0
        let ownLR = ConfigKeys.key(prefix + ".lr") != nil ? double(prefix + ".lr") : 0
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
        let prefix = Self.methodPrefix(loss)
        for key in [prefix + ".beta", prefix + ".lr"] where ConfigKeys.key(key) != nil { values[key] = "0" }
        return try overriding(values)
    }
}
