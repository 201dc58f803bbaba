import Foundation

/// Every score of the main job's evaluation: the base model's and each fine-tune's, per eval
/// annotator, prompt-major (prompt i, image j at i * perPrompt + j). Image j of prompt i starts
/// from the same noise in every model, so any two models are paired image by image.
///
/// Written as `scores.csv` into each fine-tune's stage folder and the base's `eval-base/`
/// (`prompt,image,eval_annotator,score`)
/// and gathered into `scores-all.csv` at the top of the run folder
/// (`method,train_annotator,seed,prompt,image,eval_annotator,score`; base rows: method `base`,
/// empty train annotator and seed).
public struct ScoreTable: Sendable {
    /// One evaluated fine-tune.
    public struct Model: Sendable {
        public let method: String
        public let trainAnnotator: String
        public let seed: Int
        /// The sweep's grid point, or "".
        public let setting: String
        public let scores: [String: [Double]]

        public init(method: String, trainAnnotator: String, seed: Int, setting: String, scores: [String: [Double]]) {
            self.method = method
            self.trainAnnotator = trainAnnotator
            self.seed = seed
            self.setting = setting
            self.scores = scores
        }
    }

    public let prompts: Int
    public let perPrompt: Int
    public let base: [String: [Double]]
    /// The eval annotators, in column order.
    public let annotators: [String]
    public private(set) var models: [Model] = []

    /// `annotators` nil: the base's, built-in ones first (in `AnnotatorSet.builtInNames` order),
    /// then the external ones by name.
    public init(prompts: Int, perPrompt: Int, annotators: [String]? = nil, base: [String: [Double]]) {
        self.prompts = prompts
        self.perPrompt = perPrompt
        self.base = base
        self.annotators = annotators ?? AnnotatorSet.builtInNames.filter { base[$0] != nil }
            + base.keys.filter { !AnnotatorSet.builtInNames.contains($0) }.sorted()
    }

    public mutating func add(_ model: Model) { models.append(model) }

    public static let modelHeader = "prompt,image,eval_annotator,score"
    public static let allHeader = "method,train_annotator,seed,prompt,image,eval_annotator,score"

    /// One model's `scores.csv`.
    public func csv(_ scores: [String: [Double]]) -> String {
        var text = Self.modelHeader + "\n"
        for line in lines(scores) { text += line + "\n" }
        return text
    }

    /// `scores-all.csv`: the base, then every fine-tune in evaluation order.
    public var allCSV: String {
        var text = Self.allHeader + "\n"
        for line in lines(base) { text += "base,,," + line + "\n" }
        for m in models {
            let method = m.setting.isEmpty ? m.method : m.method + " " + m.setting
            for line in lines(m.scores) { text += "\(method),\(m.trainAnnotator),\(m.seed)," + line + "\n" }
        }
        return text
    }

    /// `prompt,image,eval_annotator,score` for every annotator (in `annotators` order),
    /// prompt and image; scores in full precision.
    private func lines(_ scores: [String: [Double]]) -> [String] {
        annotators.compactMap { a in scores[a].map { (a, $0) } }.flatMap { a, s in
            s.indices.map { k in "\(k / perPrompt),\(k % perPrompt),\(a),\(MetricsLog.format(s[k]))" }
        }
    }

    /// The fine-tunes of `method` on `trainAnnotator`'s pairs at grid point `setting` (by default
    /// none: the plan's own values), by seed.
    public func runs(_ method: String, trainAnnotator: String, setting: String = "") -> [Int: Model] {
        var bySeed: [Int: Model] = [:]
        for m in models where m.method == method && m.trainAnnotator == trainAnnotator && m.setting == setting { bySeed[m.seed] = m }
        return bySeed
    }

    /// Two fine-tunes' scores under one eval annotator, seed s of one against seed s of the other:
    /// what every method-against-method interval and every change against the base is made of.
    public struct Pairing: Sendable {
        /// Per paired seed, each side's scores (prompt-major, as the table keeps them).
        public let first: [[Double]], second: [[Double]]
        let table: ScoreTable
        let baseMean: Double

        public var seeds: Int { first.count }

        /// `cell(a, b)` over image twins, averaged per seed and prompt, with its interval.
        public func interval(_ cell: (Double, Double) -> Double) -> TwoWayInterval { TwoWayInterval(table.cells(first, second, cell)) }

        /// 100 x (first - second) / the base's mean under the annotator.
        public var percentDifference: TwoWayInterval { interval { 100 * ($0 - $1) / baseMean } }
    }

    /// `first` against `second` (method and grid point, both on `trainAnnotator`'s pairs) under
    /// `evalAnnotator`, over the seeds both ran; nil when they share no seed, the annotator scored
    /// neither, or the base's mean is 0.
    public func pairing(_ first: (method: String, setting: String), versus second: (method: String, setting: String),
                        trainAnnotator: String, evalAnnotator: String) -> Pairing? {
        let a = runs(first.method, trainAnnotator: trainAnnotator, setting: first.setting)
        let b = runs(second.method, trainAnnotator: trainAnnotator, setting: second.setting)
        let seeds = Set(a.keys).intersection(b.keys).sorted(), baseMean = self.baseMean(evalAnnotator)
        let x = seeds.compactMap { a[$0]!.scores[evalAnnotator] }, y = seeds.compactMap { b[$0]!.scores[evalAnnotator] }
        guard !seeds.isEmpty, baseMean != 0, x.count == seeds.count, y.count == seeds.count else { return nil }
        return Pairing(first: x, second: y, table: self, baseMean: baseMean)
    }

    /// 100 x (first - second) / base mean under `evalAnnotator`, paired image by image, over the
    /// seeds both fine-tunes ran and every test prompt; nil as for `pairing`.
    public func difference(_ first: (method: String, setting: String), versus second: (method: String, setting: String),
                           trainAnnotator: String, evalAnnotator: String) -> TwoWayInterval? {
        pairing(first, versus: second, trainAnnotator: trainAnnotator, evalAnnotator: evalAnnotator)?.percentDifference
    }

    /// 100 x (fine-tune - base) / base mean under `evalAnnotator`, paired image by image, over the
    /// fine-tune's seeds (each against the base) and every test prompt; nil when it did not run.
    public func changeVsBase(_ run: (method: String, setting: String), trainAnnotator: String, evalAnnotator: String) -> TwoWayInterval? {
        let a = runs(run.method, trainAnnotator: trainAnnotator, setting: run.setting)
        let x = a.keys.sorted().compactMap { a[$0]!.scores[evalAnnotator] }
        let baseMean = self.baseMean(evalAnnotator)
        guard !x.isEmpty, x.count == a.count, let b = base[evalAnnotator], baseMean != 0 else { return nil }
        return Pairing(first: x, second: [[Double]](repeating: b, count: x.count), table: self, baseMean: baseMean).percentDifference
    }

    /// Per seed (rows) and prompt (columns), the mean over the prompt's images of `cell(a, b)`
    /// for image twins a (of `first[s]`) and b (of `second[s]`).
    public func cells(_ first: [[Double]], _ second: [[Double]], _ cell: (Double, Double) -> Double) -> [[Double]] {
        zip(first, second).map { a, b in
            (0..<prompts).map { p in
                (0..<perPrompt).map { j in cell(a[p * perPrompt + j], b[p * perPrompt + j]) }.reduce(0, +) / Double(perPrompt)
            }
        }
    }

    /// The base's mean score under `annotator`.
    public func baseMean(_ annotator: String) -> Double { Statistics.mean(base[annotator] ?? []) }
}
