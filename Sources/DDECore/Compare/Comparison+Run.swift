extension Comparison {
    /// One fine-tune of the plan; `beta`, `lr` and `tRange` are set at a grid point of a sweep
    /// (`compare.beta`, `compare.lr`, `compare.t_range`), else the method's own values and the
    /// config's `t_range` apply (`Config.methodSettings`, through `Comparison.runSettings`).
    public struct Run: Sendable {
        public let method: String
        public let annotator: String
        public let seed: Int
        public let beta: Double?
        public let lr: Double?
        public let tRange: String?
        public init(method: String, annotator: String, seed: Int, beta: Double? = nil, lr: Double? = nil, tRange: String? = nil) {
            self.method = method
            self.annotator = annotator
            self.seed = seed
            self.beta = beta
            self.lr = lr
            self.tRange = tRange
        }
        public var name: String {
            "\(method)-\(annotator)-s\(seed)" + (setting.isEmpty ? "" : "-" + setting.replacingOccurrences(of: " ", with: "-"))
        }
        /// The grid point, as in the sweep's table ("beta=500 lr=2e-05"), or "".
        public var setting: String {
            [beta.map { "beta=\(Comparison.short($0))" }, lr.map { "lr=\(Comparison.short($0))" }, tRange.map { "t_range=\($0)" }]
                .compactMap { $0 }.joined(separator: " ")
        }
        /// The method, then the grid point if any ("dde beta=250").
        public var methodLabel: String { setting.isEmpty ? method : method + " " + setting }
    }

    /// A number as short as it reads back (500, 2e-05).
    static func short(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
    }
}
