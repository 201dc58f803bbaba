/// The "did you mean" suggestion for a misspelt key or choice.
enum DidYouMean {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
    ///
    /// A dotted candidate also matches on its last part, so `repeats` suggests
    /// `bench.repeats`. Comparison ignores case. "Close enough" is a distance of at most
    /// `max(1, min(3, word.count / 3))`: one edit for short words, up to three for long ones.
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        // A word longer than every candidate by more than the allowed distance cannot match; the
        // edit-distance table of a 10 MB word against every key would take minutes.
        guard !word.isEmpty, word.count <= (candidates.map(\.count).max() ?? 0) + 3 else { return nil }
        let w = Array(word.lowercased())
        // Ranked by distance, then a whole-name match before a last-part match, so `lrr`
        // suggests `lr` rather than `pretrain.lr`.
        var best: (candidate: String, distance: Int, rank: Int)?
        for candidate in candidates {
            let full = Array(candidate.lowercased())
            var d = distance(w, full), rank = 0
            if let dot = full.lastIndex(of: ".") {
                let part = distance(w, Array(full[(dot + 1)...]))
                if part < d { d = part; rank = 1 }
            }
            if let b = best, (d, rank) >= (b.distance, b.rank) { continue }
            best = (candidate, d, rank)
        }
        guard let best, best.distance <= max(1, min(3, w.count / 3)) else { return nil }
        return best.candidate
    }

    /// Levenshtein distance (insert, delete, substitute; each costs 1).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitute, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// ` (did you mean 'lr'?)`, or an empty string when nothing is close.
    static func hint(for word: String, among candidates: [String]) -> String {
        suggestion(for: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }
}
