import Foundation

/// Per-step metrics of a stage, as `metrics.jsonl` (one JSON object a line) and `metrics.csv`
/// (header from the first row's keys). Lines are appended and flushed as they come; on resume
/// the files are first cut back to the rows of steps at or before the checkpoint's step, so a
/// resumed run's files equal an uninterrupted run's. Each row is also written to the stage's
/// TensorBoard events (`TensorBoardLog`) as the scalars `<name>/<column>` at its step, as
/// `mirror` says.
public final class MetricsLog {
    /// How rows become TensorBoard scalars.
    public enum Mirror: Sendable {
        /// Not mirrored (a profile of many rows per step: the report charts it).
        case none
        /// One row per step: `<name>/<column>`.
        case perStep
        /// A few rows per step, told apart by `columns` (`t_low`, `t_high`): the scalars
        /// `<name>/<column>/<label>=<values joined by '-'>` (`heldout-by-t/accuracy/t=1-100`).
        case perRow(label: String, columns: [String])
    }

    public let name: String
    public let jsonlPath: String
    public let csvPath: String
    private var columns: [String]?
    private let events: TensorBoardLog?
    private let mirror: Mirror

    /// `name` is the files' stem: `metrics`, or a stage's other logs (`heldout`, `credit`);
    /// `events`, when given, receives the rows as `mirror` says.
    public init(folder: String, name: String = "metrics", resumeAfterStep step: Int?, events: TensorBoardLog? = nil,
                mirror: Mirror = .perStep) throws {
        self.name = name
        self.events = events
        self.mirror = mirror
        jsonlPath = folder + "/\(name).jsonl"
        csvPath = folder + "/\(name).csv"
        if let step {
            try MetricsLog.truncate(jsonlPath, csvPath, keepingStepsUpTo: step)
            if let header = (try? String(contentsOfFile: csvPath, encoding: .utf8))?.split(separator: "\n").first {
                columns = header.split(separator: ",").map(String.init)
            }
        } else {
            for p in [jsonlPath, csvPath] { try FileIO.remove(p) }
        }
    }

    /// Appends one row. `values` keep their order; the first row fixes the CSV columns.
    public func append(_ values: [(String, Double)]) throws {
        try append(rows: [values])
    }

    /// Appends rows in one write per file (a whole DDE record is a thousand rows).
    public func append(rows: [[(String, Double)]]) throws {
        var json = "", csv = ""
        for values in rows {
            json += "{" + values.map { "\"\($0.0)\":\(MetricsLog.format($0.1))" }.joined(separator: ",") + "}\n"
            if columns == nil {
                columns = values.map(\.0)
                csv += columns!.joined(separator: ",") + "\n"
            }
            let byName = Dictionary(values, uniquingKeysWith: { a, _ in a })
            csv += columns!.map { byName[$0].map(MetricsLog.format) ?? "" }.joined(separator: ",") + "\n"
        }
        try MetricsLog.append(json, to: jsonlPath)
        try MetricsLog.append(csv, to: csvPath)
        if let events {
            for values in rows { try events.scalars(scalars(values), step: Int(values.first { $0.0 == "step" }?.1 ?? 0)) }
        }
    }

    /// A row's TensorBoard scalars (`step` is the event's step, not a scalar).
    public func scalars(_ values: [(String, Double)]) -> [(tag: String, value: Double)] {
        switch mirror {
        case .none:
            return []
        case .perStep:
            return values.filter { $0.0 != "step" }.map { ("\(name)/\($0.0)", $0.1) }
        case let .perRow(label, keys):
            let byName = Dictionary(values, uniquingKeysWith: { a, _ in a })
            let row = keys.map { byName[$0].map(MetricsLog.format) ?? "" }.joined(separator: "-")
            return values.filter { $0.0 != "step" && !keys.contains($0.0) }.map { ("\(name)/\($0.0)/\(label)=\(row)", $0.1) }
        }
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "null" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        if !v.isFinite { return v > 0 ? "Infinity" : "-Infinity" }
        return "\(v)"  // the shortest text that reads back to the same Double
    }

    static func append(_ text: String, to path: String) throws {
        try FileIO.append(Array(text.utf8), to: path)
    }

    /// Keeps the rows whose `step` is at most `step` (and the CSV header). A last line without
    /// its newline, or a CSV row short of fields, is half of a row a killed run was writing:
    /// dropped, so `{"step":1` cut from step 12 does not pass for step 1.
    static func truncate(_ jsonl: String, _ csv: String, keepingStepsUpTo step: Int) throws {
        if let text = try? String(contentsOfFile: jsonl, encoding: .utf8) {
            let kept = completeLines(text).filter { line in
                guard let r = line.range(of: "\"step\":") else { return false }
                let digits = line[r.upperBound...].prefix { $0.isNumber }
                return (Int(digits) ?? Int.max) <= step
            }
            try FileIO.writeAtomically(Array((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8), to: jsonl)
        }
        if let text = try? String(contentsOfFile: csv, encoding: .utf8) {
            let lines = completeLines(text)
            guard let header = lines.first else { return try FileIO.writeAtomically([], to: csv) }
            let names = header.split(separator: ",", omittingEmptySubsequences: false)
            let stepColumn = names.firstIndex(of: "step") ?? 0
            let kept = [header] + lines.dropFirst().filter { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return fields.count == names.count && (Int(fields[stepColumn]) ?? Int.max) <= step
            }
            try FileIO.writeAtomically(Array((kept.joined(separator: "\n") + "\n").utf8), to: csv)
        }
    }

    /// The lines of `text` that end in a newline.
    private static func completeLines(_ text: String) -> [Substring] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // after the last newline: empty, or an unfinished line
        return lines.filter { !$0.isEmpty }
    }
}
