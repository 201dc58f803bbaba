/// A tuned model against the base on the same images (testbed.md): image j of prompt i started
/// from the same noise in both, so every tuned image has a base twin. Intervals are 95%
/// bootstrap intervals over prompts (a prompt carries all its images), paired: one resample
/// picks the same prompts for the tuned model and the base.
public struct PairedComparison: Sendable {
    public let mean: Double
    public let meanInterval: (low: Double, high: Double)
    /// 100 * (mean - base mean) / base mean, and its paired-bootstrap interval.
    public let changePercent: Double
    public let changeInterval: (low: Double, high: Double)
    /// Share of twins where the tuned image scores higher (ties count half), and its interval.
    public let beatRatio: Double
    public let beatInterval: (low: Double, high: Double)
    /// Share of twins whose scores are exactly equal.
    public let ties: Double

    /// `tuned` and `base`: per image, prompt-major (prompt i's images at i * perPrompt ..< (i+1) * perPrompt).
    public init(tuned: [Double], base: [Double], perPrompt: Int, resamples: Int, seed: UInt64) {
        precondition(tuned.count == base.count && tuned.count % perPrompt == 0)
        let prompts = tuned.count / perPrompt
        func perPromptMean(_ x: [Double]) -> [Double] {
            (0..<prompts).map { i in x[(i * perPrompt)..<((i + 1) * perPrompt)].reduce(0, +) / Double(perPrompt) }
        }
        let t = perPromptMean(tuned), b = perPromptMean(base)
        let beats = (0..<prompts).map { i in
            (0..<perPrompt).map { j -> Double in
                let k = i * perPrompt + j
                return tuned[k] > base[k] ? 1 : (tuned[k] == base[k] ? 0.5 : 0)
            }.reduce(0, +) / Double(perPrompt)
        }
        func stats(_ idx: [Int]) -> (Double, Double, Double) {
            var st = 0.0, sb = 0.0, sw = 0.0
            for i in idx { st += t[i]; sb += b[i]; sw += beats[i] }
            let n = Double(idx.count)
            return (st / n, 100 * (st - sb) / sb, sw / n)
        }
        let all = stats(Array(0..<prompts))
        mean = all.0
        changePercent = all.1
        beatRatio = all.2
        ties = Double(zip(tuned, base).filter { $0 == $1 }.count) / Double(tuned.count)
        var rng = RandomStream(seed: seed, stream: 0x7061_6972)
        var means: [Double] = [], changes: [Double] = [], beatsResampled: [Double] = []
        for _ in 0..<resamples {
            let idx = (0..<prompts).map { _ in rng.int(below: prompts) }
            let s = stats(idx)
            means.append(s.0)
            changes.append(s.1)
            beatsResampled.append(s.2)
        }
        func interval(_ x: [Double]) -> (Double, Double) {
            let s = x.sorted()
            return (s[Int(0.025 * Double(s.count))], s[min(s.count - 1, Int(0.975 * Double(s.count)))])
        }
        meanInterval = interval(means)
        changeInterval = interval(changes)
        beatInterval = interval(beatsResampled)
    }
}
