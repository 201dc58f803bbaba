import Foundation

/// An annotator defined by `annotator.NAME = COMMAND` (`ExternalAnnotatorKey`): a user's scorer,
/// such as PickScore in Python, run as a program.
///
/// Protocol (README, Your own scorer): the images to score are written as PNGs `0001.png`,
/// `0002.png`, ... to a new folder with `captions.jsonl` (`{"image": "0001.png", "caption": "..."}`
/// a line); `/bin/sh -c 'COMMAND "$1"' sh FOLDER` runs in dde-train's working directory and
/// writes `FOLDER/scores.csv` (header `image,score`, one finite number per image). A command
/// that exits non-zero, a missing file, a missing or non-numeric score: an `AnnotatorError` that
/// names the annotator, the image or line and keeps the folder to look at (its `.stderr.txt`
/// tail goes into the error). After a good call the folder is removed.
public struct ExternalAnnotator: Annotator {
    public let name: String
    public let command: String
    /// The command's text and the bytes of every file its words name (the scorer script), so a
    /// changed scorer labels pairs anew.
    public let contentDigest: ContentDigest

    public init(_ key: ExternalAnnotatorKey) {
        name = key.name
        command = key.command
        var digest = ContentDigest()
        digest.add("external annotator")
        digest.add(key.command)
        for word in key.command.split(whereSeparator: \.isWhitespace).map(String.init) where FileIO.problemReadingFile(word) == nil {
            if let bytes = try? FileIO.read(word) {
                digest.add(word)
                digest.add(bytes)
            }
        }
        contentDigest = digest
    }

    /// The scores.csv header.
    public static let header = "image,score"

    public func scores(images: UnsafePointer<Float>, captions: [String], count: Int, size: Int) throws -> [Double] {
        precondition(captions.count == count, "\(name): \(count) images but \(captions.count) prompts")
        if count == 0 { return [] }
        let folder = try Self.makeFolder(name)
        let names = (1...count).map { String(format: "%04d.png", $0) }
        var lines = ""
        for i in 0..<count {
            let png = try PNGFile.encode(RGBImage(chw: images + i * 3 * size * size, width: size, height: size))
            try FileIO.writeAtomicallyOnThisRank(png, to: folder + "/" + names[i])
            let object = try JSONSerialization.data(withJSONObject: ["image": names[i], "caption": captions[i]], options: [.sortedKeys])
            lines += String(decoding: object, as: UTF8.self) + "\n"
        }
        // Each rank of an MPI job scores its own share in its own folder: written by this rank.
        try FileIO.writeAtomicallyOnThisRank(Array(lines.utf8), to: folder + "/captions.jsonl")
        try run(folder)
        let scores = try Self.readScores(folder + "/scores.csv", images: names, annotator: name)
        try? FileManager.default.removeItem(atPath: folder)
        return scores
    }

    /// Runs the command on `folder`; throws with the tail of its stderr when it fails.
    private func run(_ folder: String) throws {
        let stdout = folder + "/.stdout.txt", stderr = folder + "/.stderr.txt"
        for log in [stdout, stderr] where !FileManager.default.createFile(atPath: log, contents: nil) {
            throw AnnotatorError("annotator \(name): cannot create \(log) for the command's output")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " \"$1\"", "sh", folder]
        process.standardOutput = FileHandle(forWritingAtPath: stdout)
        process.standardError = FileHandle(forWritingAtPath: stderr)
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw AnnotatorError("annotator \(name): cannot start /bin/sh for '\(command.excerpt)' (\(error))")
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exited with status \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
            let text = (try? FileIO.read(stderr)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let tail = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(8).map { "    " + $0 }.joined(separator: "\n")
            throw AnnotatorError("annotator \(name): '\(command.excerpt) \(folder)' \(how); the images and captions are kept in \(folder)"
                                 + (tail.isEmpty ? " (its stderr is empty)" : "; its stderr ends:\n" + tail))
        }
    }

    /// The scores of `images` (file names, in order) from `path` (`image,score` lines).
    static func readScores(_ path: String, images: [String], annotator: String) throws -> [Double] {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch {
            throw AnnotatorError("annotator \(annotator): the command wrote no \(path) (it must write '\(header)' and a line per image)")
        }
        // A byte-order mark (Excel, utf-8-sig) and fields in double quotes are read as if absent.
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = (text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text).fileLines()
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        func fields(_ line: String) -> [String] {
            line.split(separator: ",", omittingEmptySubsequences: false).map { field in
                let f = field.trimmingCharacters(in: .whitespaces)
                return f.count >= 2 && f.hasPrefix("\"") && f.hasSuffix("\"") ? String(f.dropFirst().dropLast()) : f
            }
        }
        guard let first = lines.first, fields(first) == fields(header) else {
            let got = lines.first ?? ""
            let hint = got.hasPrefix(",") || got.hasPrefix("Unnamed") ? " (pandas writes its index as a first column: to_csv(..., index=False))" : ""
            throw AnnotatorError("\(path):1: expected the header '\(header)', got '\(got.excerpt)'" + hint)
        }
        var byImage: [String: Double] = [:]
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let place = "\(path):\(i + 1)"
            let fields = fields(line)
            guard fields.count == 2 else { throw AnnotatorError("\(place): expected 'image,score', got '\(line.excerpt)'") }
            guard let score = Double(fields[1]), score.isFinite else {
                throw AnnotatorError("\(place): the score of \(fields[0].excerpt) is '\(fields[1].excerpt)', not a finite number")
            }
            guard byImage.updateValue(score, forKey: fields[0]) == nil else {
                throw AnnotatorError("\(place): \(fields[0].excerpt) is scored twice")
            }
        }
        return try images.map { image in
            guard let score = byImage[image] else {
                throw AnnotatorError("\(path): no score for \(image) (annotator \(annotator) must score every image of captions.jsonl)")
            }
            return score
        }
    }

    /// A new folder under the system's temporary folder.
    private static func makeFolder(_ name: String) throws -> String {
        let base = FileManager.default.temporaryDirectory.path + "/dde-train-\(name)-XXXXXX"
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw AnnotatorError("annotator \(name): cannot make a folder under \(FileManager.default.temporaryDirectory.path) for the images to score")
        }
        return String(cString: made)
    }
}
