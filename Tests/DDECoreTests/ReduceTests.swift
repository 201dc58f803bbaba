import XCTest
import DDECore

final class ReduceTests: XCTestCase {
    func testSumsMatchDoubleReferences() {
        var data = TestData(seed: 6)
        for count in [0, 1, 7, 8, 1023, 1024, 1025, 5000] {
            let a = data.normal(count).map { $0 + 3 }, b = data.normal(count)
            let mem = TestArena()
            defer { mem.free() }
            let pa = mem.copy(a), pb = mem.copy(b)
            let ad = a.doubles, bd = b.doubles
            let absSum = ad.reduce(0) { $0 + abs($1) } + 1
            let center: Float = 2.5
            let refSum = ad.reduce(0, +)
            let refDev = ad.reduce(0) { $0 + ($1 - 2.5) * ($1 - 2.5) }
            let refDiff = zip(ad, bd).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            let refDot = zip(bd, ad).reduce(0) { $0 + $1.0 * ($1.1 - 2.5) }
            XCTAssertEqual(Reduce.sum(pa, count: count), refSum, accuracy: 1e-6 * absSum, "sum \(count)")
            XCTAssertEqual(Reduce.sumOfSquaredDeviations(pa, count: count, from: center), refDev,
                           accuracy: 1e-6 * (refDev + 1), "deviations \(count)")
            XCTAssertEqual(Reduce.sumOfSquaredDifferences(pa, pb, count: count), refDiff,
                           accuracy: 1e-6 * (refDiff + 1), "differences \(count)")
            let (s, d) = Reduce.sumAndCenteredDot(pb, pa, count: count, center: center)
            XCTAssertEqual(s, bd.reduce(0, +), accuracy: 1e-6 * (bd.reduce(0) { $0 + abs($1) } + 1), "g sum \(count)")
            XCTAssertEqual(d, refDot, accuracy: 1e-6 * (zip(bd, ad).reduce(0) { $0 + abs($1.0 * ($1.1 - 2.5)) } + 1),
                           "centered dot \(count)")
        }
    }

    /// Three million terms: a single Float accumulator is off by ~10% on 0.1s (each add rounds
    /// at the scale of the running sum); blocks of 256 added in Double keep the relative error
    /// at the per-block bound (~2e-6) however long the row.
    func testLongRowsKeepTheBlockErrorBound() {
        let count = 3_000_001
        let mem = TestArena()
        defer { mem.free() }
        XCTAssertEqual(Reduce.sum(mem.filled(count, 1), count: count), Double(count))
        let exact = Double(Float(0.1)) * Double(count)
        XCTAssertEqual(Reduce.sum(mem.filled(count, 0.1), count: count), exact, accuracy: 2e-6 * exact)
        XCTAssertEqual(Reduce.sumOfSquaredDeviations(mem.filled(count, 1000.5), count: count, from: 1000),
                       0.25 * Double(count), accuracy: 2e-6 * 0.25 * Double(count))
    }
}
