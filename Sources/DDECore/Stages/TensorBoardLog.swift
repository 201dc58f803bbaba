import Foundation

/// A stage's TensorBoard event file, `events.out.tfevents.dde-train` in its folder: the scalars
/// of its logs (`MetricsLog` mirrors its rows here) and its sample grids as images, so that
/// `tensorboard --logdir runs/NAME` shows every stage of a run side by side, each folder a run.
/// One file per stage, written as the stage goes (TensorBoard follows a growing file, not two).
///
/// On resume the file is first cut back to the events at or before the checkpoint's step, like
/// the CSV logs (a record a kill cut short is dropped with everything after it), so a resumed
/// stage's events equal an uninterrupted one's but for their wall times.
public final class TensorBoardLog {
    public static let fileName = "events.out.tfevents.dde-train"
    public let path: String

    public init(folder: String, resumeAfterStep step: Int?) throws {
        path = folder + "/" + Self.fileName
        let now = Date().timeIntervalSince1970
        if let step, FileManager.default.fileExists(atPath: path) {
            let kept = TensorBoardEvent.records(try FileIO.read(path)).map(\.data).filter { (TensorBoardEvent.step(ofEvent: $0) ?? .max) <= step }
            let records = kept.isEmpty ? [TensorBoardEvent.fileVersion(wallTime: now)] : kept
            try FileIO.writeAtomically(records.flatMap(TensorBoardEvent.record), to: path)
        } else {
            try FileIO.writeAtomically(TensorBoardEvent.record(TensorBoardEvent.fileVersion(wallTime: now)), to: path)
        }
    }

    /// Appends one event of scalars (`tag`, value) at `step`.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int) throws {
        guard !values.isEmpty else { return }
        let event = TensorBoardEvent.scalars(values, step: step, wallTime: Date().timeIntervalSince1970)
        try FileIO.append(TensorBoardEvent.record(event), to: path)
    }

    /// Appends `image` under `tag` at `step`, as a PNG.
    public func image(_ image: RGBImage, tag: String, step: Int) throws {
        let event = TensorBoardEvent.image(tag: tag, png: try PNGFile.encode(image), width: image.width, height: image.height,
                                           step: step, wallTime: Date().timeIntervalSince1970)
        try FileIO.append(TensorBoardEvent.record(event), to: path)
    }
}
