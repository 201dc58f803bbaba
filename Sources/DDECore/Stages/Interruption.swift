import Synchronization

/// A request to stop, made by the executable's SIGINT/SIGTERM handler (the core library never
/// installs handlers). Training loops look at it after each step: they finish the step, write a
/// checkpoint and throw `Interrupted`, so `resume=auto` continues exactly where the run stopped.
/// The main job also looks between stages. A second signal is the handler's business: it exits
/// at once, which is safe because every checkpoint is written to a temporary name and renamed.
public enum Interruption {
    private static let requests = Atomic<Int>(0)

    public static var isRequested: Bool { requests.load(ordering: .relaxed) > 0 }

    /// `isRequested` agreed by every rank of an MPI job (true everywhere when any rank got a
    /// signal), so all stop after the same step. A collective: every rank asks at the same point.
    public static var isRequestedByAnyRank: Bool { Cluster.current.any(isRequested) }

    /// Records one request and returns how many there have been (one atomic add: safe to call
    /// from a signal handler).
    @discardableResult
    public static func request() -> Int { requests.add(1, ordering: .relaxed).newValue }

    /// Forgets earlier requests (tests; a new run in the same process).
    public static func reset() { requests.store(0, ordering: .relaxed) }

    /// Throws `Interrupted` at a stage boundary when a stop was requested.
    public static func check(before stage: String) throws {
        if isRequestedByAnyRank { throw Interrupted(stage: stage, step: nil, checkpoint: nil) }
    }
}

/// A run that stopped on request: which stage, after which step, and the checkpoint to resume from.
public struct Interrupted: Error, CustomStringConvertible {
    public let stage: String
    public let step: Int?
    public let checkpoint: String?

    public var description: String {
        if let step, let checkpoint {
            return "interrupted: \(stage) stopped after step \(step); checkpoint \(checkpoint); run the same command with resume=auto to continue"
        }
        return "interrupted before \(stage); finished stages are kept, run the same command again to continue"
    }
}
