import Foundation

/// A CSV file as the report reads it: the header on the first line, then rows of fields split on
/// commas (no quoting: the files dde-train writes hold numbers and plain names).
///
/// Tolerant by design, because a report must still be written when a fine-tune folder comes from
/// an older build: a missing file is `nil` from `load`, a missing column reads as all-missing,
/// and an empty, short or non-numeric field is a missing number.
public struct CSVTable: Sendable {
    public let header: [String]
    public let rows: [[String]]

    public init(text: String) {
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        func fields(_ line: Substring) -> [String] {
            line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        header = lines.first.map(fields) ?? []
        rows = lines.dropFirst().map(fields)
    }

    /// The file at `path`, or nil when it cannot be read.
    public static func load(_ path: String) -> CSVTable? {
        (try? String(contentsOfFile: path, encoding: .utf8)).map(CSVTable.init(text:))
    }

    public func has(_ column: String) -> Bool { header.contains(column) }

    /// The column's fields as text ("" where missing).
    public func strings(_ column: String) -> [String] {
        guard let i = header.firstIndex(of: column) else { return rows.map { _ in "" } }
        return rows.map { i < $0.count ? $0[i] : "" }
    }

    /// The column as numbers: nil where the field is empty, missing or not a finite number.
    public func numbers(_ column: String) -> [Double?] {
        strings(column).map { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }

    /// The rows where both columns hold finite numbers, in file order.
    public func points(x: String, y: String) -> [(x: Double, y: Double)] {
        zip(numbers(x), numbers(y)).compactMap { a, b in a.flatMap { a in b.map { (a, $0) } } }
    }
}
