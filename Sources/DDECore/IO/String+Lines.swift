extension StringProtocol {
    /// The lines of a text file (config, `pairs.jsonl`, `captions.jsonl`), split at `\n` and at
    /// `\r\n`: Swift keeps `\r\n` as one Character, which `split(separator: "\n")` does not split
    /// at, so a file saved with Windows line ends would otherwise be one long line. Empty lines
    /// are kept, so the index + 1 is the line number.
    /// A UTF-8 byte-order mark at the start (editors on Windows write one) is not part of the
    /// first line.
    func fileLines() -> [SubSequence] {
        let text = first == "\u{FEFF}" ? dropFirst() : self[...]
        return text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    }
}

extension String {
    /// The text with control characters (tab aside) written as escapes - `\n`, `\r`, `\u{1b}` -
    /// so a message that quotes a damaged file stays one line on a terminal.
    var escapingControlCharacters: String {
        func isControl(_ s: Unicode.Scalar) -> Bool { (s.value < 0x20 && s != "\t") || s.value == 0x7F }
        guard unicodeScalars.contains(where: isControl) else { return self }
        var out = ""
        for s in unicodeScalars {
            switch s {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case _ where isControl(s): out += "\\u{\(String(s.value, radix: 16))}"
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }
}
