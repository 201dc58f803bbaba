import Foundation

/// The frame every training stage runs in (pretrain, annotators, fine-tunes): its folder and
/// the decision to reuse, refuse or make it (`StageFrame`), the resolved config, resume from a
/// checkpoint, the step loop with its metrics log, progress, checkpoints every
/// `checkpointEvery` steps (the newest `keep` kept) and a stop on request, and at the end the
/// finished-files list. The stages differ only in their `TrainingStep` and in what they do
/// after a step (validation, samples, diagnostics) and at the end (the final model).
public final class TrainingRun {
    public let frame: StageFrame
    /// The `stage` metadata of its checkpoints (`pretrain`, `annotators`, `train`).
    public let checkpointStage: String
    public let checkpointEvery: Int
    public let keep: Int
    weak var observer: StageObserver?
    /// The step the loop starts from: 0, or the resumed checkpoint's.
    public private(set) var start = 0
    /// The stage's TensorBoard events, from `prepare` on (cut back to `start` on resume).
    public private(set) var events: TensorBoardLog?

    public var folder: String { frame.folder.path }
    public var checkpoints: String { folder + "/checkpoints" }

    public init(_ frame: StageFrame, checkpointStage: String, checkpointEvery: Int, keep: Int, observer: StageObserver?) {
        self.frame = frame
        self.checkpointStage = checkpointStage
        self.checkpointEvery = checkpointEvery
        self.keep = keep
        self.observer = observer
    }

    /// True when the stage finished here and is reused (`StageFrame.isFinished`, which also
    /// refuses a folder made with other settings).
    public func isFinished() throws -> Bool { try frame.isFinished(observer: observer) }

    /// Makes the folder, its checkpoints and `folders` inside it (clearing dead runs'
    /// temporaries), writes the resolved config and opens the TensorBoard events.
    public func prepare(config: Config, folders: [String] = []) throws {
        for f in [folder, checkpoints] + folders.map({ folder + "/" + $0 }) {
            try FileIO.createFolder(f)
            FileIO.removeStaleTemporaries(in: f)
        }
        try config.writeResolved(to: folder)
        events = try TensorBoardLog(folder: folder, resumeAfterStep: start > 0 ? start : nil)
    }

    /// Restores `step` from the checkpoint the `resume` key names (nil: none) and returns the
    /// step to start from; the checkpoint must come from a run with this signature (only the
    /// frame's `mayGrow` keys may differ) and be at most at `steps` (the stage's step count,
    /// key `stepsKey`): one at `steps` finishes at once, one past it is refused, naming the way on.
    @discardableResult
    public func resume(_ step: TrainingStep, describing what: String, steps: Int, stepsKey: String) throws -> Int {
        guard let path = try Checkpoint.resumePath(frame.resume, checkpoints: checkpoints) else { return 0 }
        let (file, at) = try Checkpoint.openForResume(path, stage: checkpointStage, signature: frame.signature, mayGrow: frame.mayGrow)
        guard at <= steps else {
            throw TrainingError("key '\(stepsKey)': the checkpoint \(path) is at step \(at), past \(stepsKey) = \(steps); "
                                + "set \(stepsKey)=\(at) or more to continue from it, or resume= to start again")
        }
        try step.restore(from: file, step: at)
        if let note = Checkpoint.unverifiedNote(file) { observer?.note(note) }
        start = at
        observer?.note("resuming \(what) from \(path) at step \(at)")
        return at
    }

    /// A log in the folder (`metrics`, `validation`, ...), cut back to the resumed step, its rows
    /// mirrored to the stage's TensorBoard events as `mirror` says (after `prepare`).
    public func log(_ name: String = "metrics", mirror: MetricsLog.Mirror = .perStep) throws -> MetricsLog {
        try MetricsLog(folder: folder, name: name, resumeAfterStep: start > 0 ? start : nil, events: events, mirror: mirror)
    }

    /// Runs steps `start + 1 ... steps` of `step`: each is logged to `log` (with `step` first
    /// and `seconds` last), reported to the observer under `name` (only the `shown` metrics when
    /// given), followed by `after(step)`, and checkpointed every `checkpointEvery` steps, at the
    /// last and when a stop was requested (then `Interrupted` is thrown).
    public func loop(_ step: TrainingStep, steps: Int, name: String, log: MetricsLog, metadata: [String: String],
                     shown: Set<String>? = nil, after: (Int) throws -> Void = { _ in }) throws {
        // `resume` refuses a start past the steps; should one get here, no step runs.
        observer?.stageBegan(name, total: steps, completed: min(start, steps))
        for index in min(start, steps)..<steps {
            let t0 = Stopwatch.now()
            let done = index + 1
            let metrics = [("step", Double(done))] + (try step.run(step: index)) + [("seconds", Stopwatch.now() - t0)]
            try log.append(metrics)
            observer?.stepDone(name, step: done, total: steps, metrics: shown.map { s in metrics.filter { s.contains($0.0) } } ?? metrics)
            try after(done)
            let stopping = Interruption.isRequestedByAnyRank
            if done % checkpointEvery == 0 || done == steps || stopping {
                try Checkpoint.write(try step.checkpoint(step: done, metadata: metadata), folder: checkpoints, step: done, keep: keep)
            }
            if stopping && done < steps {
                throw Interrupted(stage: name, step: done, checkpoint: checkpoints + "/" + Checkpoint.fileName(step: done))
            }
        }
    }

    /// Marks the stage finished (`StageFrame.finish`).
    public func finish() throws { try frame.finish() }
}
