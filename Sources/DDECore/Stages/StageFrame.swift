// Stages: the frame every stage of a run shares. `StageFrame` decides whether a stage's folder
// holds a finished result to reuse, one made with other settings to refuse, or a damaged one to
// make again, from its `StageFolder` (finished-files list) and `StageSignature` (the keys the stage
// depends on plus digests of its inputs). `TrainingRun` adds, for the trained stages, resume, the
// `TrainingStep` loop, `MetricsLog`, `Checkpoint` files, `StepCheck` and `Interruption`;
// `RunLayout` names every path. Builds on Config, IO, Cluster and the numeric core.

/// The part every stage shares around its work: whether a finished result in its folder can be
/// reused, must be refused (made with other settings, never overwritten) or made again
/// (damaged), and the record that it finished. Pretraining, the annotators, the pairs and the
/// fine-tunes all go through it.
public struct StageFrame {
    /// How the stage is named in messages (`pretrain`, `train dde`).
    public let name: String
    public let folder: StageFolder
    public let signature: StageSignature
    /// The `resume` key: a finished stage may be continued for more steps only when it is set.
    public let resume: String
    /// Keys a resume may change (`pretrain.steps`, `steps`): a finished stage trained longer.
    public let mayGrow: [String]

    public init(_ name: String, folder: StageFolder, signature: StageSignature, resume: String = "", mayGrow: [String] = []) {
        self.name = name
        self.folder = folder
        self.signature = signature
        self.resume = resume
        self.mayGrow = mayGrow
    }

    /// True when the stage finished here with this signature and its files are whole (said in a
    /// note): reuse it. False: the stage runs (a damaged result is said and made again; a
    /// finished one continued for more steps). Throws when the folder holds a result made with
    /// other settings.
    public func isFinished(observer: StageObserver?) throws -> Bool {
        switch folder.state(for: signature) {
        case .finished:
            observer?.note("\(name): reusing \(folder.path) (made with the same settings)")
            return true
        case .damaged(let problem):
            observer?.note("\(name): \(problem); not reused, the stage runs again")
            try folder.unfinish()
        case .other(let recorded):
            // A finished stage continued for more steps differs only in its `mayGrow` keys, and
            // only upwards: a refused resume to fewer steps must not reopen (unfinish) it.
            let grows = mayGrow.allSatisfy { key in
                guard let new = signature.value(of: key).flatMap(Int.init), let old = recorded.value(of: key).flatMap(Int.init) else { return true }
                return new >= old
            }
            let extending = !resume.isEmpty && !mayGrow.isEmpty && signature.without(mayGrow) == recorded.without(mayGrow)
            if extending && !grows {
                throw TrainingError("\(folder.path) holds a finished stage (" + signature.differences(from: recorded).joined(separator: ", ")
                                    + "); it continues only to more steps: raise the steps, or choose another out=")
            }
            guard extending else {
                throw TrainingError("\(folder.path) holds a stage made with other settings ("
                                    + signature.differences(from: recorded).joined(separator: ", ")
                                    + "); choose another out=, or delete that folder to make it again")
            }
            try folder.unfinish()
        case .empty:
            break
        }
        return false
    }

    /// Marks the stage finished (`StageFolder.finish`).
    public func finish() throws { try folder.finish(signature) }
}
