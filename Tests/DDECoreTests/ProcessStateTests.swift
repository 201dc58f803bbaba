import XCTest
import DDECore

/// No process-wide mutable state (issue 12): the thread count, the convolution algorithm and the
/// profiler travel in the workspace every kernel receives, so two workspaces with other settings
/// compute side by side and no test flips a global and puts it back.
final class ProcessStateTests: XCTestCase {
    /// Stored mutable statics in Sources/: only the two the process owns by nature.
    func testNoMutableStaticsBesidesTheProcesssOwn() throws {
        let allowed: Set<String> = [
            "DDECore/Cluster/Cluster.swift",   // the MPI job this process joined (once, at start)
            "dde-train/StopSignals.swift",     // the message the signal handler writes
        ]
        let stored = try NSRegularExpression(pattern: #"nonisolated\(unsafe\)|static var \w+\s*(:[^{=\n]+)?="#)
        var offenders: [String] = []
        for (path, text) in try KeyTableTests.sources() where !allowed.contains(path) {
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let l = String(line)
                if l.trimmingCharacters(in: .whitespaces).hasPrefix("//") { continue }
                if stored.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) != nil { offenders.append("\(path):\(i + 1)") }
            }
        }
        XCTAssertEqual(offenders, [], "process-wide mutable state; put it in the workspace or the settings")
    }

    /// Two workspaces, interleaved: each convolution takes its own workspace's algorithm and
    /// thread count, and only the profiling workspace's profiler records.
    func testWorkspacesWithOtherSettingsComputeSideBySide() {
        var data = TestData(seed: 31)
        let store = ParameterStore()
        let conv = Conv2d(store, "conv", inChannels: 16, outChannels: 16, kernel: 3)
        store.seal()
        load(store, conv.weight, data.normal(conv.weight.count))
        load(store, conv.bias, data.normal(16))
        let (n, size) = (4, 16)
        let x = data.normal(n * 16 * size * size)
        let plain = Workspace(threads: 1, convolution: .off)
        let profiled = Workspace(threads: 2, convolution: .f4x4, profiler: Profiler(enabled: true))
        XCTAssertNil(conv.winogradVariant(height: size, width: size, plain))
        XCTAssertNotNil(conv.winogradVariant(height: size, width: size, profiled))
        func forward(_ ws: Workspace) -> [Float] {
            let out = FloatBuffer(count: n * 16 * size * size)
            x.withUnsafeBufferPointer { conv.forward($0.baseAddress!, out.pointer, n: n, height: size, width: size, store, ws) }
            return out.array(n * 16 * size * size)
        }
        let a1 = forward(plain), b1 = forward(profiled), a2 = forward(plain), b2 = forward(profiled)
        XCTAssertEqual(a1, a2, "im2col, one thread, between Winograd runs")
        XCTAssertEqual(b1, b2, "Winograd, two threads, between im2col runs")
        XCTAssertNotEqual(a1, b1, "the two algorithms round differently: each workspace's own ran")
        assertClose(b1, a1, tolerance: 1e-4, "both are the convolution")
        let calls = { (ws: Workspace) in ws.profiler.report.first { $0.0 == .convForward }?.2 ?? -1 }
        XCTAssertEqual(calls(profiled), 2)
        XCTAssertEqual(calls(plain), 0)
    }
}
