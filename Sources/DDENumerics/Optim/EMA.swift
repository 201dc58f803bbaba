/// An exponential moving average of the parameters, as a flat buffer parallel to
/// `store.params`: after each optimizer update,
///
///     ema = ema - (1 - decay) * (ema - p)        // = decay * ema + (1 - decay) * p
///
/// written the way diffusers' `EMAModel.step` does it (`s_param.sub_(one_minus_decay *
/// (s_param - param))`), one loop over the flat buffer split across threads, no allocation.
///
/// The decay is fixed. diffusers' `EMAModel` by default *warms the decay up*
/// (`min(decay, (1 + t) / (10 + t))`); that is a schedule, i.e. a pure function of the step,
/// and can be passed per call through `update(_:decay:)` without state here.
///
/// The weights start as a copy of the parameters at init. `weights` is the whole state a
/// checkpoint needs; copy it back on resume.
public final class EMA: @unchecked Sendable {
    public let decay: Double
    /// Number of floats in the store this average was built for.
    public let count: Int
    /// The averaged weights, parallel to `store.params`.
    public let weights: FloatBuffer

    /// - Parameters:
    ///   - store: a sealed, initialized store; the average starts at its current parameters.
    ///   - decay: in [0, 1]; 0.9999 is diffusers' default.
    public init(_ store: ParameterStore, decay: Double = 0.9999) {
        precondition((0...1).contains(decay), "EMA: decay must be in [0, 1], got \(decay)")
        self.decay = decay
        count = store.count
        weights = FloatBuffer(count: store.count)
        weights.pointer.update(from: store.params.pointer, count: store.count)
    }

    /// Moves the average towards the current parameters with the fixed `decay`.
    public func update(_ store: ParameterStore, _ ws: Workspace) { update(store, decay: decay, ws) }

    /// Moves the average towards the current parameters with this step's `decay`.
    public func update(_ store: ParameterStore, decay: Double, _ ws: Workspace) {
        precondition((0...1).contains(decay), "EMA: decay must be in [0, 1], got \(decay)")
        precondition(store.count == count, "EMA: built for \(count) floats, store has \(store.count)")
        let oneMinusDecay = Float(1 - decay)  // in Double first, as diffusers' Python float
        let e = SendablePointer(weights.pointer), p = SendablePointer(store.params.pointer)
        parallelChunks(count, threads: ws.threads) { range in
            let e = e.pointer, p = p.pointer
            for i in range { e[i] -= oneMinusDecay * (e[i] - p[i]) }
        }
    }

    /// Overwrites the store's parameters with the average (for sampling or export), as
    /// diffusers' `copy_to`. Keep a copy first if training continues.
    public func copyTo(_ store: ParameterStore) {
        precondition(store.count == count, "EMA: built for \(count) floats, store has \(store.count)")
        store.params.pointer.update(from: weights.pointer, count: count)
    }

    /// Restarts the average at the store's current parameters.
    public func reset(_ store: ParameterStore) {
        precondition(store.count == count, "EMA: built for \(count) floats, store has \(store.count)")
        weights.pointer.update(from: store.params.pointer, count: count)
    }
}
