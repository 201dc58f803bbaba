import Foundation

/// The mean of a seeds x prompts table of paired differences (or any per-cell statistic) and its
/// interval, with both the fine-tune seeds and the prompts as random draws (README, "Intervals").
///
/// Model: `d[s][p] = mu + seed_s + prompt_p + e_sp`, three independent zero-mean effects with
/// variances `v_s`, `v_p`, `v_e`, crossed (every seed is scored on every prompt, with the same
/// initial noise). The grand mean over K seeds and P prompts has variance
/// `v_s / K + v_p / P + v_e / (K P) = (MS_seed + MS_prompt - MS_resid) / (K P)`, from the two-way
/// table's mean squares (the expectations are `v_e + P v_s`, `v_e + K v_p` and `v_e`). The
/// interval is `mean +- t_q(df) se`, with Satterthwaite's degrees of freedom for that sum of mean
/// squares: with three seeds and a real seed effect df is near 2 and the t quantile near 4.3,
/// which is what makes a three-seed interval honest. (A bootstrap over three seeds has no such
/// factor: its 95% interval covers the truth far less often; `TwoWayIntervalTests` simulates
/// both.) With one seed the seed effect cannot be estimated and the interval covers the prompts
/// only (df = P - 1); with one seed and one prompt it is unbounded.
public struct TwoWayInterval: Sendable, Equatable {
    public let mean: Double
    public let low: Double
    public let high: Double
    public let standardError: Double
    public let degreesOfFreedom: Double
    /// The variance components' estimates (seed, prompt, residual) and the table's shape, when it
    /// has at least two seeds and two prompts: what `sizeToDecide` extrapolates from.
    public let components: Components?

    /// With one seed or one prompt: the variance of one unit of the other factor and their count.
    public let oneFactor: (variance: Double, units: Int)?

    public static func == (a: TwoWayInterval, b: TwoWayInterval) -> Bool {
        a.mean == b.mean && a.low == b.low && a.high == b.high && a.standardError == b.standardError
            && a.degreesOfFreedom == b.degreesOfFreedom && a.components == b.components
    }

    public struct Components: Sendable, Equatable {
        public let seed: Double, prompt: Double, residual: Double
        public let seeds: Int, prompts: Int
    }

    /// `cells[s][p]`: seed s, prompt p; every row the same length.
    public init(_ cells: [[Double]], level: Double = 0.95) {
        let K = cells.count, P = cells.first?.count ?? 0
        precondition(K > 0 && P > 0 && cells.allSatisfy { $0.count == P }, "TwoWayInterval: a full seeds x prompts table")
        let k = Double(K), p = Double(P)
        let grand = cells.joined().reduce(0, +) / (k * p)
        let seedMeans = cells.map { $0.reduce(0, +) / p }
        let promptMeans = (0..<P).map { j in cells.map { $0[j] }.reduce(0, +) / k }
        mean = grand
        var variance: Double, df: Double
        var components: Components?
        var oneFactor: (variance: Double, units: Int)?
        if K == 1 && P == 1 {
            (variance, df) = (.infinity, 1)
        } else if K == 1 || P == 1 {
            // One factor only: the plain variance of its means.
            let means = K == 1 ? promptMeans : seedMeans
            let n = Double(means.count)
            variance = means.map { ($0 - grand) * ($0 - grand) }.reduce(0, +) / (n - 1) / n
            df = n - 1
            oneFactor = (variance * n, means.count)
        } else {
            let msSeed = p * seedMeans.map { ($0 - grand) * ($0 - grand) }.reduce(0, +) / (k - 1)
            let msPrompt = k * promptMeans.map { ($0 - grand) * ($0 - grand) }.reduce(0, +) / (p - 1)
            var ss = 0.0
            for s in 0..<K { for j in 0..<P { let r = cells[s][j] - seedMeans[s] - promptMeans[j] + grand; ss += r * r } }
            let msResid = ss / ((k - 1) * (p - 1))
            components = Components(seed: max(0, (msSeed - msResid) / p), prompt: max(0, (msPrompt - msResid) / k), residual: msResid,
                                    seeds: K, prompts: P)
            // A negative variance estimate (the effects' mean squares below the residual's) is
            // clamped to what the residual alone implies.
            let combined = max(msSeed + msPrompt - msResid, msResid)
            variance = combined / (k * p)
            let denominator = msSeed * msSeed / (k - 1) + msPrompt * msPrompt / (p - 1) + msResid * msResid / ((k - 1) * (p - 1))
            df = denominator > 0 ? max(1, combined * combined / denominator) : k * p - 1
        }
        standardError = variance.squareRoot()
        degreesOfFreedom = df
        self.components = components
        self.oneFactor = oneFactor
        if standardError == 0 {
            (low, high) = (grand, grand)
        } else if !standardError.isFinite {
            (low, high) = (-.infinity, .infinity)
        } else {
            let q = StudentT.quantile(0.5 + level / 2, df: df)
            (low, high) = (grand - q * standardError, grand + q * standardError)
        }
    }

    /// The interval of minus the statistic.
    public init(negating other: TwoWayInterval) {
        mean = -other.mean
        low = -other.high
        high = -other.low
        standardError = other.standardError
        degreesOfFreedom = other.degreesOfFreedom
        components = other.components
        oneFactor = other.oneFactor
    }

    /// With one factor only (`oneFactor`): the fewest units (up to `maxUnits`) whose expected
    /// 95% interval would exclude `threshold`, if the measured mean and variance are the truth.
    public func unitsToDecide(threshold: Double = 0, maxUnits: Int = 100_000) -> Int? {
        guard let f = oneFactor, f.variance > 0 else { return nil }
        let gap = abs(mean - threshold)
        func decides(_ n: Int) -> Bool { n > 1 && StudentT.quantile(0.975, df: Double(n - 1)) * (f.variance / Double(n)).squareRoot() < gap }
        guard decides(maxUnits) else { return nil }
        var lo = max(2, f.units), hi = maxUnits
        while lo < hi { let mid = (lo + hi) / 2; if decides(mid) { hi = mid } else { lo = mid + 1 } }
        return lo
    }

    /// The half-width of the 95% interval expected with `seeds` seeds and `prompts` prompts if the
    /// variance components are what this table measured (the expected mean squares
    /// `v_e + P v_s`, `v_e + K v_p`, `v_e` in the same formula and Satterthwaite's df).
    public func expectedHalfWidth(seeds K: Int, prompts P: Int, level: Double = 0.95) -> Double? {
        guard let c = components, K > 1, P > 1 else { return nil }
        let k = Double(K), p = Double(P)
        let msSeed = c.residual + p * c.seed, msPrompt = c.residual + k * c.prompt, msResid = c.residual
        let combined = max(msSeed + msPrompt - msResid, msResid)
        let denominator = msSeed * msSeed / (k - 1) + msPrompt * msPrompt / (p - 1) + msResid * msResid / ((k - 1) * (p - 1))
        let df = denominator > 0 ? max(1, combined * combined / denominator) : k * p - 1
        return StudentT.quantile(0.5 + level / 2, df: df) * (combined / (k * p)).squareRoot()
    }

    /// For an interval that holds `threshold`: the fewest seeds (at this table's prompts, up to
    /// `maxSeeds`) and, separately, the fewest prompts (at its seeds, up to `maxPrompts`) whose
    /// expected interval would exclude it, if the measured mean and variance components are the
    /// truth; when neither alone can, `together`: the fewest seeds and prompts grown by the same
    /// factor (up to 1000) that would. nil where no such number is within the bounds (a
    /// difference this close to the threshold may be nil) or the table cannot tell (one seed or
    /// one prompt).
    public func sizeToDecide(threshold: Double = 0, maxSeeds: Int = 1000, maxPrompts: Int = 100_000)
        -> (seeds: Int?, prompts: Int?, together: (seeds: Int, prompts: Int)?) {
        guard let c = components else { return (nil, nil, nil) }
        let gap = abs(mean - threshold)
        func decides(_ K: Int, _ P: Int) -> Bool { (expectedHalfWidth(seeds: K, prompts: P) ?? .infinity) < gap }
        func fewest(_ from: Int, _ to: Int, _ ok: (Int) -> Bool) -> Int? {
            guard from <= to, ok(to) else { return nil }
            var lo = from, hi = to  // ok(hi); the half-width falls as either count grows
            while lo < hi { let mid = (lo + hi) / 2; if ok(mid) { hi = mid } else { lo = mid + 1 } }
            return lo
        }
        let seeds = fewest(c.seeds, maxSeeds) { decides($0, c.prompts) }
        let prompts = fewest(c.prompts, maxPrompts) { decides(c.seeds, $0) }
        guard seeds == nil && prompts == nil else { return (seeds, prompts, nil) }
        let factor = fewest(1, 1000) { decides(c.seeds * $0, c.prompts * $0) }
        return (nil, nil, factor.map { (c.seeds * $0, c.prompts * $0) })
    }

    /// `mean,low,high` for a CSV row: six decimals, an unbounded end as `inf` / `-inf`.
    public var csvFields: String {
        func f(_ v: Double) -> String { v.isFinite ? String(format: "%.6f", v) : (v > 0 ? "inf" : "-inf") }
        return [f(mean), f(low), f(high)].joined(separator: ",")
    }

    /// `better` when the interval lies above 0, `worse` below, `tie` when it holds 0.
    public var verdict: String { low > 0 ? "better" : high < 0 ? "worse" : "tie" }
}
