import XCTest
import DDECore

final class SiLUTests: XCTestCase {
    func testForwardMatchesNaiveAndGradientMatchesFiniteDifferences() {
        var data = TestData(seed: 11)
        for count in [1, 7, 8, 37, 1000, 70_001] {
            let x = data.normal(count, scale: 4), r = data.normal(count), start = data.normal(count)
            let rd = r.doubles
            for threads in [1, 2] {
                withThreads(threads) { ws in
                    let mem = TestArena()
                    defer { mem.free() }
                    let xp = mem.copy(x), out = mem.filled(count)
                    SiLU.forward(xp, out, count: count, ws)
                    assertClose(array(out, count), Naive.silu(x), tolerance: 2e-7, "silu forward \(count)")

                    let dx = mem.copy(start)
                    SiLU.backward(dOut: mem.copy(r), x: xp, dx: dx, count: count, ws)
                    GradCheck.check("silu dx \(count)", analytic: minus(array(dx, count), start), at: x.doubles) {
                        dotD(rd, Naive.silu($0))
                    }
                }
            }
        }
    }

    func testInPlaceEqualsOutOfPlaceAndExtremesAreFinite() {
        let ws = Workspace()
        var data = TestData(seed: 12)
        var x = data.normal(1003, scale: 10)
        x[0] = -100; x[1] = 100; x[2] = -1e30; x[3] = 1e30; x[4] = 0
        let mem = TestArena()
        defer { mem.free() }
        let out = mem.filled(x.count), inPlace = mem.copy(x)
        SiLU.forward(mem.copy(x), out, count: x.count, ws)
        SiLU.forward(inPlace, inPlace, count: x.count, ws)
        assertIdentical(array(inPlace, x.count), array(out, x.count), "silu in place")
        let y = array(out, x.count)
        XCTAssertEqual(y[0], 0, accuracy: 1e-30)
        XCTAssertEqual(y[1], 100)
        XCTAssertEqual(y[2], 0, accuracy: 1e-6)
        XCTAssertEqual(y[3], 1e30)
        XCTAssertEqual(y[4], 0)
        XCTAssert(SiLU.value(.nan).isNaN)
        XCTAssertEqual(SiLU.derivative(0), 0.5)
        XCTAssertEqual(SiLU.derivative(100), 1)
        XCTAssertEqual(SiLU.derivative(-100), 0, accuracy: 1e-30)
    }
}
