/// One (model, eval annotator) result.
public struct ReportRow: Sendable {
    public let method: String
    public let trainAnnotator: String
    public let evalAnnotator: String
    public let seed: Int?
    /// The sweep's grid point ("beta=500 lr=2e-05"), or "".
    public let setting: String
    public let mean: Double
    public let low: Double
    public let high: Double
    public let comparison: PairedComparison?
}
