import XCTest
import DDECore

final class ElementwiseTests: XCTestCase {
    func testEveryHelperMatchesAPlainLoopAtOneAndTwoThreads() {
        var data = TestData(seed: 5)
        for count in [0, 1, 7, 8, 9, 1000, 70_001] {
            let a = data.normal(count), b = data.normal(count)
            let sum = zip(a, b).map { $0 + $1 }
            for threads in [1, 2] {
                withThreads(threads) { ws in
                    let mem = TestArena()
                    defer { mem.free() }
                    let pa = mem.copy(a), pb = mem.copy(b), out = mem.filled(count)
                    Elementwise.add(pa, pb, out, count: count, ws)
                    XCTAssertEqual(array(out, count), sum, "add \(count)")

                    Elementwise.add(pa, pb, pa, count: count, ws)   // in place
                    XCTAssertEqual(array(pa, count), sum, "add in place \(count)")

                    let y = mem.copy(b)
                    Elementwise.accumulate(mem.copy(a), into: y, count: count, ws)
                    XCTAssertEqual(array(y, count), sum, "accumulate \(count)")

                    let z = mem.copy(b)
                    Elementwise.axpy(-0.75, mem.copy(a), z, count: count, ws)
                    XCTAssertEqual(array(z, count), zip(a, b).map { $1 + -0.75 * $0 }, "axpy \(count)")

                    let s = mem.copy(a)
                    Elementwise.scale(s, by: 3.5, count: count, ws)
                    XCTAssertEqual(array(s, count), a.map { 3.5 * $0 }, "scale \(count)")

                    let f = mem.filled(count + 1, 9)
                    Elementwise.fill(f, with: -2, count: count, ws)
                    XCTAssertEqual(array(f, count + 1), [Float](repeating: -2, count: count) + [9], "fill \(count)")

                    let c = mem.filled(count + 1, 9)
                    Elementwise.copy(mem.copy(a), to: c, count: count, ws)
                    XCTAssertEqual(array(c, count + 1), a + [9], "copy \(count)")
                }
            }
        }
    }
}
