import XCTest
import DDECore

/// Test memory with an explicit end: `let mem = TestArena(); defer { mem.free() }`.
///
/// Why not `FloatBuffer(values).pointer` inline: the temporary buffer may be released right
/// after `.pointer` is read, before the kernel runs, leaving a dangling pointer.
final class TestArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    /// A fresh copy of `values`.
    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let p = allocate(T.self, max(values.count, 1))
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { p.initialize(from: base, count: values.count) } }
        return p
    }

    /// `count` copies of `value` (gradient buffers start non-zero in tests, so "adds into" is
    /// checked, not just "writes").
    func filled(_ count: Int, _ value: Float = 0) -> UnsafeMutablePointer<Float> {
        let p = allocate(Float.self, max(count, 1))
        p.initialize(repeating: value, count: max(count, 1))
        return p
    }

    func free() {
        for block in blocks { block.deallocate() }
        blocks = []
    }

    private func allocate<T>(_: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<T>.stride, alignment: 64)
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: count)
    }
}

/// The first `count` floats at `p`.
func array(_ p: UnsafePointer<Float>, _ count: Int) -> [Float] {
    Array(UnsafeBufferPointer(start: p, count: count))
}

/// Runs `body` with a workspace of `n` threads. Tests of parallel kernels run each case at 1
/// and 2 threads.
func withThreads<R>(_ n: Int, _ body: (Workspace) throws -> R) rethrows -> R {
    try body(Workspace(threads: n))
}

/// `a - b`, elementwise.
func minus(_ a: [Float], _ b: [Float]) -> [Float] { zip(a, b).map { $0 - $1 } }

/// Asserts two arrays are bitwise identical (thread-count independence).
func assertIdentical(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): size", file: file, line: line)
    let first = zip(a, b).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
    XCTAssertNil(first, "\(what): differs first at \(first?.offset ?? -1)", file: file, line: line)
}
