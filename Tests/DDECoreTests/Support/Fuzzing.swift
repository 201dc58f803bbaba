import XCTest
import DDECore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fuzz inputs made from one seeded stream, so a failing case is reproduced by its seed and
/// number: random bytes, cuts of a valid file, and mutations of it (flipped, set, inserted,
/// deleted or duplicated bytes, and decimal numbers replaced by edge values).
struct FuzzInputs {
    var rng: RandomStream

    init(seed: UInt64, stream: UInt64) { rng = RandomStream(seed: seed, stream: stream) }

    /// Numbers at the edges of every integer width and of `Double`, and words that parse as
    /// numbers in some readers but not others.
    static let edgeNumbers = [
        "0", "-0", "-1", "1", "7", "255", "256", "65535", "2147483648", "4294967295", "4294967296",
        "4611686018427387904", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999999999", "1e308", "1e309",
        "-1e309", "1e-400", "0.5", "1.0", "3e2", "nan", "inf", "-inf", "0x10", "",
    ]

    /// Bytes a mutation sets: the edges of a byte and the punctuation the formats are made of.
    static let interestingBytes: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x0A, 0x0D, 0x09, 0x20] + Array("\"{}[],:=#\\.-0".utf8)

    mutating func int(below bound: Int) -> Int { bound <= 1 ? 0 : rng.int(below: bound) }

    mutating func pick<T>(_ items: [T]) -> T { items[int(below: items.count)] }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }

    /// Random bytes of a random length below `maxLength`.
    mutating func random(maxLength: Int) -> [UInt8] { bytes(int(below: maxLength)) }

    /// Lengths to cut a file at within `range`: all of them when there are at most `count`,
    /// else `count` evenly spread.
    static func cuts(_ range: Range<Int>, count: Int) -> [Int] {
        guard range.count > count else { return Array(range) }
        return (0..<count).map { range.lowerBound + $0 * range.count / count }
    }

    /// One mutation of `valid` with its name; positions are drawn from `focus` (the whole input
    /// when nil), so a mutation can aim at a header.
    mutating func mutate(_ valid: [UInt8], focus: Range<Int>? = nil) -> (kind: String, bytes: [UInt8]) {
        var out = valid
        let kinds = ["flip", "set", "insert", "delete", "duplicate", "number"]
        let rounds = int(below: 4) == 0 ? 2 + int(below: 3) : 1
        var names: [String] = []
        for _ in 0..<rounds {
            let kind = pick(kinds)
            names.append(kind)
            let range = focus.map { $0.clamped(to: 0..<max(out.count, 1)) } ?? 0..<max(out.count, 1)
            let at = range.lowerBound + int(below: range.count)
            switch kind {
            case "flip":
                for _ in 0..<(1 + int(below: 8)) where !out.isEmpty {
                    out[range.lowerBound + int(below: range.count) % out.count] ^= UInt8(1 + int(below: 255))
                }
            case "set":
                for _ in 0..<(1 + int(below: 4)) where !out.isEmpty {
                    out[(range.lowerBound + int(below: range.count)) % out.count] = pick(Self.interestingBytes)
                }
            case "insert":
                out.insert(contentsOf: bytes(1 + int(below: 64)), at: min(at, out.count))
            case "delete":
                guard at < out.count else { continue }
                out.removeSubrange(at..<min(out.count, at + 1 + int(below: 64)))
            case "duplicate":
                guard at < out.count else { continue }
                let piece = Array(out[at..<min(out.count, at + 1 + int(below: 256))])
                out.insert(contentsOf: piece, at: int(below: out.count + 1))
            default:
                out = replacingNumber(in: out, focus: range)
            }
        }
        return (names.joined(separator: "+"), out)
    }

    /// `bytes` with one run of ASCII digits inside `focus` replaced by an edge number.
    mutating func replacingNumber(in bytes: [UInt8], focus: Range<Int>) -> [UInt8] {
        var runs: [Range<Int>] = []
        var i = focus.lowerBound
        let end = min(focus.upperBound, bytes.count)
        while i < end {
            guard bytes[i] >= 0x30 && bytes[i] <= 0x39 else { i += 1; continue }
            let start = i
            while i < end && bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
            runs.append(start..<i)
        }
        guard !runs.isEmpty else { return bytes }
        var out = bytes
        out.replaceSubrange(pick(runs), with: Array(pick(Self.edgeNumbers).utf8))
        return out
    }
}

/// Runs fuzz cases against one reader and checks each ends in a parse or a one-line error of
/// the expected kind, quickly and without a large allocation. A failure names the reader, the
/// seed and the case, and saves the input; a case that kills the process (a trap, a segfault)
/// is named on stderr by `CrashNote` before the process dies.
final class FuzzRun {
    let reader: String
    let seed: UInt64
    /// A case that raises the process's peak memory by more than this many bytes is reported
    /// (a reader that believed a length or size field and allocated it).
    let maxGrowth: Int
    private(set) var parsed = 0
    private(set) var rejected = 0
    var cases: Int { parsed + rejected }
    private let started = Date()
    private var slowest = (seconds: 0.0, label: "")

    /// No case has a time limit (timings on a shared machine are noise; a hang never ends the
    /// run): the slowest case is printed by `finish`.
    init(reader: String, seed: UInt64, maxGrowth: Int = 128 << 20) {
        self.reader = reader
        self.seed = seed
        self.maxGrowth = maxGrowth
        CrashNote.install()
    }

    /// Runs one case. `attempt` parses `input`; a thrown error must satisfy `expected`
    /// (nil = fine, else the problem) and be one line.
    func run(_ kind: String, _ input: [UInt8], expected: (Error) -> String?, _ attempt: ([UInt8]) throws -> Void,
             file: StaticString = #filePath, line: UInt = #line) {
        let number = cases
        let label = "\(reader): seed \(seed), case \(number) (\(kind), \(input.count) bytes)"
        CrashNote.set("\nReaderFuzz died in \(label)\n")
        defer { CrashNote.clear() }
        let t0 = Date(), peak = FuzzRun.peakResidentBytes()
        do {
            try attempt(input)
            parsed += 1
        } catch {
            rejected += 1
            let message = "\(error)"
            if let problem = expected(error) {
                fail(number, label, "\(problem): \(message)", input, file: file, line: line)
            } else if !FuzzRun.isOneLine(message) {
                fail(number, label, "the error is more than one line: \(message)", input, file: file, line: line)
            }
        }
        let seconds = Date().timeIntervalSince(t0)
        if seconds > slowest.seconds { slowest = (seconds, label) }
        let growth = FuzzRun.peakResidentBytes() - peak
        if growth > maxGrowth {
            fail(number, label, "raised peak memory by \(growth >> 20) MB", input, file: file, line: line)
        }
    }

    /// Prints the counts, the time and the slowest case.
    func finish() {
        print(String(format: "ReaderFuzz %@: %d cases (%d parsed, %d rejected) in %.2f s, seed %llu; slowest %.0f ms: %@", reader, cases,
                     parsed, rejected, Date().timeIntervalSince(started), seed, slowest.seconds * 1e3, slowest.label))
    }

    private func fail(_ number: Int, _ label: String, _ problem: String, _ input: [UInt8], file: StaticString, line: UInt) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reader-fuzz-\(reader)-case\(number).bin").path
        try? Data(input).write(to: URL(fileURLWithPath: path))
        XCTFail("\(label): \(problem) (input saved to \(path))", file: file, line: line)
    }

    /// No line feed or carriage return (by scalar: `"\r\n"` is one Character, which
    /// `contains("\n")` does not find).
    static func isOneLine(_ text: String) -> Bool { !text.unicodeScalars.contains { $0 == "\n" || $0 == "\r" } }

    /// The process's peak resident set size in bytes (`ru_maxrss`: kilobytes on Linux).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss
        #endif
    }
}

/// The fuzz case running now, written to stderr when the process dies on a signal, so a trap
/// or a segfault (which no test can catch) still names the seed and case that caused it.
///
/// The handler writes the note and puts back the handler that was there before; returning
/// re-runs the faulting instruction, which now ends the process the usual way (with the Swift
/// runtime's backtrace where it installs one). It runs on its own stack so a stack overflow
/// is reported too.
enum CrashNote {
    private static let signals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT]
    private static let capacity = 512
    nonisolated(unsafe) private static let note = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    nonisolated(unsafe) private static var length = 0
    nonisolated(unsafe) private static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: signals.count)
    nonisolated(unsafe) private static var installed = false

    static func set(_ text: String) {
        let bytes = Array(text.utf8.prefix(capacity))
        bytes.withUnsafeBufferPointer { note.update(from: $0.baseAddress!, count: bytes.count) }
        length = bytes.count
    }

    static func clear() { length = 0 }

    static func install() {
        guard !installed else { return }
        installed = true
        #if os(Linux)
        var current = stack_t()
        sigaltstack(nil, &current)
        if current.ss_flags & Int32(SS_DISABLE) != 0 {
            var stack = stack_t()
            stack.ss_size = 1 << 16
            stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: stack.ss_size, alignment: 16)
            sigaltstack(&stack, nil)
        }
        for (i, signal) in signals.enumerated() {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { CrashNote.report($0) }
            action.sa_flags = Int32(SA_ONSTACK)
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, previous + i)
        }
        #endif
    }

    private static func report(_ signal: Int32) {
        if length > 0 { _ = write(2, note, length) }
        if let i = signals.firstIndex(of: signal) { sigaction(signal, previous + i, nil) }
    }
}
