import Dispatch

/// Monotonic wall-clock time in seconds.
public enum Stopwatch {
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// Runs `body` `warmup` times untimed, then `repeats` times; returns each timed run's seconds.
    public static func time(warmup: Int, repeats: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return (0..<repeats).map { _ in
            let t0 = now()
            body()
            return now() - t0
        }
    }
}

/// Median and spread of repeated timings.
public struct TimingSummary: Sendable, Codable {
    public let median: Double
    public let min: Double
    public let max: Double

    public init(_ samples: [Double]) {
        let s = samples.sorted()
        median = s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
        min = s.first ?? 0
        max = s.last ?? 0
    }
}
