/// `t_range = lo:hi` (losses.md, segment training): t is drawn only from `lo*T < t <= hi*T`
/// when lo and hi are fractions (`0:0.1` is t = 1..100 at T = 1000), or from `lo < t <= hi`
/// when they are integers above 1. Empty text is the whole range 1...T.
public struct TimestepRange: Sendable, Equatable {
    public let first: Int
    public let last: Int

    public init(first: Int, last: Int) {
        self.first = first
        self.last = last
    }

    public static func whole(_ T: Int) -> TimestepRange { TimestepRange(first: 1, last: T) }

    /// Parses `lo:hi`; the error (`TimestepRangeError`) says what was wrong with the text.
    public static func parse(_ text: String, T: Int) throws -> TimestepRange {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return .whole(T) }
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let lo = Double(parts[0]), let hi = Double(parts[1]), lo < hi, lo >= 0 else {
            throw TimestepRangeError(description: "'\(text)' is not lo:hi with 0 <= lo < hi (e.g. 0.2:0.7 or 200:700)")
        }
        let fractions = hi <= 1
        // Steps are capped at T + 1 before Int(_:), which traps beyond Int's range (0:1e30, 0:inf);
        // a bound past T still selects nothing below.
        let cap = Double(T + 1)
        let first = fractions ? Int((lo * Double(T)).rounded(.down)) + 1 : Int(min(lo, cap)) + 1
        let last = fractions ? Int((hi * Double(T)).rounded(.down)) : Int(min(hi, cap))
        guard first >= 1, last <= T, first <= last else {
            throw TimestepRangeError(description: "'\(text)' selects no step within 1...\(T)")
        }
        return TimestepRange(first: first, last: last)
    }

    public var count: Int { last - first + 1 }
    public func contains(_ t: Int) -> Bool { t >= first && t <= last }
}

import Foundation

/// A `lo:hi` text that is no range of steps; the caller names the key it came from.
public struct TimestepRangeError: Error, CustomStringConvertible {
    public let description: String
}
