import XCTest
import DDECore

final class ChannelConcatTests: XCTestCase {
    func testForwardSplitAndGradientsMatchNaive() {
        var data = TestData(seed: 41)
        for (n, c1, c2, h, w) in [(3, 2, 5, 5, 5), (1, 1, 1, 1, 1), (2, 3, 1, 4, 7), (8, 64, 32, 8, 8)] {
            let sa = n * c1 * h * w, sb = n * c2 * h * w, so = sa + sb
            let a = data.normal(sa), b = data.normal(sb), r = data.normal(so)
            let startA = data.normal(sa), startB = data.normal(sb)
            let rd = r.doubles, ad = a.doubles, bd = b.doubles
            let (na, nb) = Naive.channelSplit(r, n: n, c1: c1, c2: c2, h: h, w: w)
            for threads in [1, 2] {
                withThreads(threads) { ws in
                    let what = "concat \(n),\(c1),\(c2),\(h),\(w)"
                    let mem = TestArena()
                    defer { mem.free() }
                    let out = mem.filled(so)
                    ChannelConcat.forward(mem.copy(a), mem.copy(b), out, n: n, c1: c1, c2: c2, h: h, w: w, ws)
                    XCTAssertEqual(array(out, so), Naive.channelConcat(a, b, n: n, c1: c1, c2: c2, h: h, w: w), "\(what) forward")

                    let pa = mem.filled(sa), pb = mem.filled(sb)
                    ChannelConcat.split(out, pa, pb, n: n, c1: c1, c2: c2, h: h, w: w, ws)
                    XCTAssertEqual(array(pa, sa), a, "\(what) split a")
                    XCTAssertEqual(array(pb, sb), b, "\(what) split b")
                    ChannelConcat.split(mem.copy(r), pa, pb, n: n, c1: c1, c2: c2, h: h, w: w, ws)
                    XCTAssertEqual(array(pa, sa), na, "\(what) split naive a")
                    XCTAssertEqual(array(pb, sb), nb, "\(what) split naive b")

                    let da = mem.copy(startA), db = mem.copy(startB)
                    ChannelConcat.backward(dOut: mem.copy(r), da: da, db: db, n: n, c1: c1, c2: c2, h: h, w: w, ws)
                    GradCheck.check("\(what) da", analytic: minus(array(da, sa), startA), at: ad) {
                        dotD(rd, Naive.channelConcat($0, bd, n: n, c1: c1, c2: c2, h: h, w: w))
                    }
                    GradCheck.check("\(what) db", analytic: minus(array(db, sb), startB), at: bd) {
                        dotD(rd, Naive.channelConcat(ad, $0, n: n, c1: c1, c2: c2, h: h, w: w))
                    }

                    // A nil gradient is skipped and the other still gets its part.
                    let onlyB = mem.filled(sb)
                    ChannelConcat.backward(dOut: mem.copy(r), da: nil, db: onlyB, n: n, c1: c1, c2: c2, h: h, w: w, ws)
                    XCTAssertEqual(array(onlyB, sb), nb, "\(what) db alone")
                }
            }
        }
    }
}
