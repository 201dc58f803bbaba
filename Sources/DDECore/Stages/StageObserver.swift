/// How a long-running stage reports progress. The core never prints: the executable's
/// implementation draws the progress line and prints notes.
public protocol StageObserver: AnyObject {
    /// A stage begins: `total` steps of work, of which `completed` are already done (resume).
    func stageBegan(_ stage: String, total: Int, completed: Int)
    /// One step done; `metrics` are this step's values (loss, lr, ...), in a fixed order.
    func stepDone(_ stage: String, step: Int, total: Int, metrics: [(String, Double)])
    /// A line worth showing (validation result, a file written, a warning).
    func note(_ text: String)
    func stageEnded(_ stage: String)
}

/// An observer that ignores everything (tests).
public final class SilentObserver: StageObserver {
    public init() {}
    public func stageBegan(_ stage: String, total: Int, completed: Int) {}
    public func stepDone(_ stage: String, step: Int, total: Int, metrics: [(String, Double)]) {}
    public func note(_ text: String) {}
    public func stageEnded(_ stage: String) {}
}
