import Foundation

/// The key table as text: aligned columns for `dde-train config`, markdown for the README
/// (`scripts/gen-readme-keys` copies `markdownTable()` between the README's markers, and a
/// test checks they are the same).
extension ConfigKeys {
    /// One row per key: key, type, default, unit, allowed values, the stages whose results it
    /// changes (a loss's own keys: `train (kto)`), description; ends with a newline.
    public static func markdownTable() -> String {
        // `|` would end the cell and `<config name>` would read as an HTML tag.
        func cell(_ s: String) -> String {
            s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "<", with: "&lt;")
        }
        var out = "| key | type | default | unit | allowed | affects | description |\n"
        out += "|---|---|---|---|---|---|---|\n"
        for key in all {
            let cells = ["`\(key.name)`", key.type.name, defaultCell(key, code: true), key.unit, key.allowed, affectsCell(key), key.doc]
            out += "| " + cells.map(cell).joined(separator: " | ") + " |\n"
        }
        return out
    }

    /// The same table with aligned columns and a `# section` line before each section; ends
    /// with a newline.
    public static func textTable() -> String {
        let header = ["KEY", "TYPE", "DEFAULT", "UNIT", "ALLOWED", "AFFECTS", "DESCRIPTION"]
        let rows = all.map { [$0.name, $0.type.name, defaultCell($0, code: false), $0.unit, $0.allowed, affectsCell($0), $0.doc] }
        var widths = header.map(\.count)
        for row in rows {
            for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) }
        }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, c) in cells.enumerated() {
                s += i == cells.count - 1 ? c : c.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
            }
            return s + "\n"
        }
        var out = line(header)
        var section = ""
        for (key, row) in zip(all, rows) {
            if key.section != section {
                section = key.section
                out += "# \(section)\n"
            }
            out += line(row)
        }
        return out
    }

    /// The stages whose results the key changes (`pretrain,train`), `-` for none; a path key's
    /// stages take the file's content.
    private static func affectsCell(_ key: ConfigKey) -> String {
        let stages = (key.affects ?? []).map(\.rawValue).joined(separator: ",")
        if stages.isEmpty { return "-" }
        if let losses = key.losses {
            // A method's own beta or lr enters as the `beta` or `lr` it resolves to.
            return losses.isEmpty ? "train (as beta, lr)" : "train (" + losses.map(\.rawValue).joined(separator: ",") + ")"
        }
        return key.type == .path ? stages + " (content)" : stages
    }

    private static func defaultCell(_ key: ConfigKey, code: Bool) -> String {
        if key.defaultText.isEmpty { return "\"\"" }
        return code ? "`\(key.defaultText)`" : key.defaultText
    }
}
