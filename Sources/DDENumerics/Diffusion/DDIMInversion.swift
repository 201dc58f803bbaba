import Foundation

/// DDIM inversion of clean images toward a network step k, as InPO and SmPO find their x_t
/// (losses-extra.md sections 4 and 7): from x = x0, deterministic inverse DDIM steps with the
/// model's prediction (no gradient), each optionally followed by a small stochastic kick (InPO's
/// `eta`) or made twice and averaged (SmPO's ReNoise steps). The noise target at the end is the
/// one the inverted x implies at k: `eps_k = (x_inv - sqrt(abar_k) x0) / sqrt(1 - abar_k)`.
///
/// Steps are network indices k = t - 1, as in diffusers (`alphas_cumprod[k]` = our
/// `alphaBar[k + 1]`). Two grids:
/// - `diffusers020`: the authors' code with its pinned diffusers 0.20.0: the origins
///   `1 - stride, 1, 1 + stride, ...` (stride T / steps; the first one's abar is
///   `alphas_cumprod[0]`), each taken while it is below k; a step from origin o lands on
///   o + stride and queries the model at o. The end is not k (up to a stride off).
/// - `exact`: from the clean image (abar 1, the model queried at step 0) through
///   `round(j k / steps)`, j = 1...steps, ending at k itself; with the true noise for a model
///   and no kick it lands on the forward-noised `sqrt(abar_k) x0 + sqrt(1 - abar_k) eps`.
public struct DDIMInversion: Sendable {
    public enum Semantics: String, CaseIterable, Sendable {
        case diffusers020, exact
    }

    /// One inverse step: the model is queried at `origin`; x moves from `abarOrigin` to `abarDestination`.
    public struct Step: Equatable, Sendable {
        public var origin: Int
        public var abarOrigin: Double
        public var abarDestination: Double
    }

    public var steps: Int
    public var eta: Double
    public var semantics: Semantics
    /// SmPO: each step made twice, the second time from the tentative next x, and the two
    /// predictions averaged.
    public var renoise: Bool

    public init(steps: Int, eta: Double, semantics: Semantics, renoise: Bool = false) {
        precondition(steps >= 1)
        self.steps = steps
        self.eta = eta
        self.semantics = semantics
        self.renoise = renoise
    }

    /// `alphas_cumprod[k]` for a network step k in 0..<T.
    static func abar(_ k: Int, _ schedule: NoiseSchedule) -> Double { schedule.alphaBar[k + 1] }

    /// The inverse steps toward network step `k`.
    public func path(toward k: Int, schedule: NoiseSchedule) -> [Step] {
        let T = schedule.T
        switch semantics {
        case .diffusers020:
            let stride = T / steps
            return (0..<steps).map { 1 - stride + $0 * stride }.filter { $0 < k && $0 + stride < T }.map { o in
                Step(origin: o, abarOrigin: Self.abar(max(o, 0), schedule), abarDestination: Self.abar(o + stride, schedule))
            }
        case .exact:
            var path: [Step] = [], last = -1, abarLast = 1.0
            for j in 1...steps {
                let n = (j * k + steps / 2) / steps
                guard n > last else { continue }
                path.append(Step(origin: max(last, 0), abarOrigin: abarLast, abarDestination: Self.abar(n, schedule)))
                last = n
                abarLast = Self.abar(n, schedule)
            }
            return path
        }
    }

    /// The kick's variance after a step (DDIM's eta = 1 variance of the step back).
    public static func kickVariance(_ s: Step) -> Double {
        (1 - s.abarOrigin) / (1 - s.abarDestination) * (1 - s.abarDestination / s.abarOrigin)
    }

    /// Inverts `count` images of `size` floats: `x` holds x0 on entry and x_inv on return,
    /// `target` receives eps_k. `k[i]` is image i's network step, `kicks[i]` its kick stream.
    /// `predict(x, steps, images)` returns the model's noise prediction for the listed images
    /// (their x packed in that order, each at its network step); it is called once per grid step
    /// (twice with `renoise`) on the images still on their way.
    public func invert(_ x: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>, count: Int, size d: Int, k: [Int],
                       schedule: NoiseSchedule, kicks: inout [RandomStream],
                       predict: (_ x: UnsafePointer<Float>, _ steps: [Float], _ images: [Int]) -> UnsafePointer<Float>) {
        let paths = k.map { path(toward: $0, schedule: schedule) }
        let x0 = Array(UnsafeBufferPointer(start: x, count: count * d))
        var packed = [Float](), tentative = [Float](), kick = [Float](repeating: 0, count: d)
        for j in 0..<(paths.map(\.count).max() ?? 0) {
            let active = (0..<count).filter { paths[$0].count > j }
            let steps = active.map { Float(paths[$0][j].origin) }
            packed = active.flatMap { Array(UnsafeBufferPointer(start: x + $0 * d, count: d)) }
            // One inverse DDIM step of every active image with prediction `eps`, from `packed`.
            func step(_ eps: UnsafePointer<Float>, into out: (Int, Int, Float) -> Void) {
                for (a, i) in active.enumerated() {
                    let s = paths[i][j]
                    let so = Float(s.abarOrigin.squareRoot()), no = Float((1 - s.abarOrigin).squareRoot())
                    let sn = Float(s.abarDestination.squareRoot()), nn = Float((1 - s.abarDestination).squareRoot())
                    for q in 0..<d {
                        let e = eps[a * d + q], x0Hat = (packed[a * d + q] - no * e) / so
                        out(a, q, sn * x0Hat + nn * e)
                    }
                }
            }
            var eps = Array(UnsafeBufferPointer(start: packed.withUnsafeBufferPointer { predict($0.baseAddress!, steps, active) },
                                                count: active.count * d))
            if renoise {
                tentative = packed
                eps.withUnsafeBufferPointer { e in step(e.baseAddress!) { a, q, v in tentative[a * d + q] = v } }
                let second = tentative.withUnsafeBufferPointer { predict($0.baseAddress!, steps, active) }
                for q in 0..<eps.count { eps[q] = (eps[q] + second[q]) / 2 }
            }
            eps.withUnsafeBufferPointer { e in step(e.baseAddress!) { a, q, v in x[active[a] * d + q] = v } }
            if eta > 0 {
                for i in active {
                    let sd = Float(eta * Self.kickVariance(paths[i][j]).squareRoot())
                    kick.withUnsafeMutableBufferPointer { kicks[i].fillNormal($0.baseAddress!, count: d) }
                    for q in 0..<d { x[i * d + q] += sd * kick[q] }
                }
            }
        }
        for i in 0..<count {
            let a = Self.abar(k[i], schedule)
            let s = Float(a.squareRoot()), n = Float((1 - a).squareRoot())
            for q in 0..<d { target[i * d + q] = (x[i * d + q] - s * x0[i * d + q]) / n }
        }
    }
}
