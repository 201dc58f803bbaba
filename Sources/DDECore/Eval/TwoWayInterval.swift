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
        if K == 1 && P == 1 {
            (variance, df) = (.infinity, 1)
        } else if K == 1 || P == 1 {
            // One factor only: the plain variance of its means.
            let means = K == 1 ? promptMeans : seedMeans
            let n = Double(means.count)
            variance = means.map { ($0 - grand) * ($0 - grand) }.reduce(0, +) / (n - 1) / n
            df = n - 1
        } else {
            let msSeed = p * seedMeans.map { ($0 - grand) * ($0 - grand) }.reduce(0, +) / (k - 1)
            let msPrompt = k * promptMeans.map { ($0 - grand) * ($0 - grand) }.reduce(0, +) / (p - 1)
            var ss = 0.0
            for s in 0..<K { for j in 0..<P { let r = cells[s][j] - seedMeans[s] - promptMeans[j] + grand; ss += r * r } }
            let msResid = ss / ((k - 1) * (p - 1))
            // A negative variance estimate (the effects' mean squares below the residual's) is
            // clamped to what the residual alone implies.
            let combined = max(msSeed + msPrompt - msResid, msResid)
            variance = combined / (k * p)
            let denominator = msSeed * msSeed / (k - 1) + msPrompt * msPrompt / (p - 1) + msResid * msResid / ((k - 1) * (p - 1))
            df = denominator > 0 ? max(1, combined * combined / denominator) : k * p - 1
        }
        standardError = variance.squareRoot()
        degreesOfFreedom = df
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
    }

    /// `mean,low,high` for a CSV row: six decimals, an unbounded end as `inf` / `-inf`.
    public var csvFields: String {
        func f(_ v: Double) -> String { v.isFinite ? String(format: "%.6f", v) : (v > 0 ? "inf" : "-inf") }
        return [f(mean), f(low), f(high)].joined(separator: ",")
    }

    /// `better` when the interval lies above 0, `worse` below, `tie` when it holds 0.
    public var verdict: String { low > 0 ? "better" : high < 0 ? "worse" : "tie" }
}
