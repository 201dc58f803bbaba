import XCTest
import DDECore

/// The one finite-difference gradient check every differentiable piece goes through.
///
/// `analytic` is the gradient a fast `Float` backward produced for the scalar
/// `L = sum(r * out)`; `f` computes the same scalar in `Double`, usually through the naive
/// twin, so the central difference `(f(x+h) - f(x-h)) / 2h` is accurate to ~1e-9 and all the
/// error left is the fast kernel's own `Float` rounding.
///
/// Coordinate i passes when `|a_i - fd_i| <= tolerance * max(|fd_i|, floor)`, where
/// `floor = 0.01 * max_j |fd_j|` keeps near-zero coordinates from demanding more relative
/// accuracy than `Float` gives. The default `tolerance = 1e-4` fails a gradient scaled by
/// 0.999 (checked by mutation), and `Float` accumulation over a few thousand terms passes;
/// a looser tolerance must be passed explicitly and justified at the call site.
enum GradCheck {
    static func check(_ name: String, analytic: [Float], at point: [Double],
                      tolerance: Double = 1e-4, h: Double = 1e-6, maxCoordinates: Int = 96,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: ([Double]) -> Double) {
        XCTAssertEqual(analytic.count, point.count, "\(name): gradient size", file: file, line: line)
        guard analytic.count == point.count, !point.isEmpty else { return }
        let worst = worstError(analytic: analytic, at: point, h: h, maxCoordinates: maxCoordinates, f)
        XCTAssertLessThanOrEqual(worst.error, tolerance,
            "\(name): coordinate \(worst.index) analytic \(worst.analytic) vs numeric \(worst.numeric)",
            file: file, line: line)
    }

    /// The largest relative error over the probed coordinates, and where. A non-finite analytic
    /// or numeric value is an infinite error (NaN compares false with everything, so a plain
    /// maximum would let it pass).
    static func worstError(analytic: [Float], at point: [Double], h: Double = 1e-6, maxCoordinates: Int = 96,
                           _ f: ([Double]) -> Double) -> (error: Double, index: Int, analytic: Float, numeric: Double) {
        // Probe a deterministic spread of coordinates (all of them for small tensors).
        let stride = max(1, point.count / maxCoordinates)
        var indices = Array(Swift.stride(from: 0, to: point.count, by: stride))
        if indices.last != point.count - 1 { indices.append(point.count - 1) }
        var x = point
        var numeric: [Double] = []
        for i in indices {
            let saved = x[i]
            x[i] = saved + h
            let up = f(x)
            x[i] = saved - h
            let down = f(x)
            x[i] = saved
            numeric.append((up - down) / (2 * h))
        }
        let scale = numeric.map { abs($0) }.max() ?? 0
        let floor = max(0.01 * (scale.isFinite ? scale : 0), 1e-6)
        var worst = (error: 0.0, index: indices[0], analytic: analytic[indices[0]], numeric: numeric[0])
        for (j, i) in indices.enumerated() {
            let a = Double(analytic[i])
            let err = a.isFinite && numeric[j].isFinite ? abs(a - numeric[j]) / max(abs(numeric[j]), floor) : .infinity
            if err > worst.error { worst = (err, i, analytic[i], numeric[j]) }
        }
        return worst
    }
}

/// Compares a fast kernel's output with its naive twin's, elementwise, relative to the scale.
func assertClose(_ fast: [Float], _ reference: [Float], tolerance: Float = 1e-4, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(fast.count, reference.count, "\(what): size", file: file, line: line)
    guard fast.count == reference.count else { return }
    let scale = max(reference.map { abs($0) }.max() ?? 0, 1e-6)
    var worst: Float = 0
    var at = 0
    for i in 0..<fast.count {
        let e = abs(fast[i] - reference[i]) / scale
        if e > worst || e.isNaN { worst = e; at = i }
    }
    XCTAssertLessThanOrEqual(worst, tolerance, "\(what): index \(at) fast \(fast[at]) vs naive \(reference[at])",
                             file: file, line: line)
}

/// Random test data from an explicit stream.
struct TestData {
    var rng: RandomStream
    init(seed: UInt64) { rng = RandomStream(seed: seed, stream: 99) }
    mutating func normal(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in rng.normal() * scale } }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + rng.int(below: hi - lo + 1) }
}

extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}

func dot(_ a: [Double], _ b: [Float]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * Double(b[i]) }
    return s
}

/// Loads `values` into the slot's parameters.
func load(_ store: ParameterStore, _ slot: ParameterSlot, _ values: [Float]) {
    precondition(values.count == slot.count)
    values.withUnsafeBufferPointer { store.parameters(slot).update(from: $0.baseAddress!, count: slot.count) }
}

func read(_ store: ParameterStore, _ slot: ParameterSlot) -> [Float] {
    Array(UnsafeBufferPointer(start: store.parameters(slot), count: slot.count))
}

func readGrad(_ store: ParameterStore, _ slot: ParameterSlot) -> [Float] {
    Array(UnsafeBufferPointer(start: store.gradient(slot), count: slot.count))
}
