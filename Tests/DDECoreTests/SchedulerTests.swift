import XCTest
import DDECore

final class SchedulerTests: XCTestCase {
    let schedule = NoiseSchedule(kind: .scaledLinear, timesteps: 1000)

    /// diffusers' DDIMScheduler with timestep_spacing="leading", steps_offset=1.
    func testDDIMTimestepsUseLeadingSpacingWithOffsetOne() {
        let ddim = DDIMScheduler(schedule: schedule, steps: 50)
        XCTAssertEqual(ddim.timesteps.count, 50)
        XCTAssertEqual(Array(ddim.timesteps.prefix(3)), [981, 961, 941])
        XCTAssertEqual(ddim.timesteps.last, 1)
        XCTAssertEqual(DDIMScheduler(schedule: schedule, steps: 25).timesteps.prefix(2), [961, 921])
    }

    /// With an oracle that returns the true noise of a fixed (x0, eps), deterministic DDIM stays
    /// on the trajectory: every step gives sqrt(a_prev) x0 + sqrt(1 - a_prev) eps, and the last
    /// (set_alpha_to_one = false) lands on a = abar_1, not on x0 itself.
    func testDeterministicDDIMFollowsTheTrajectoryOfAnOracle() {
        var data = TestData(seed: 5)
        let x0 = data.normal(12), eps = data.normal(12)
        let ddim = DDIMScheduler(schedule: schedule, steps: 20)
        let aT = schedule.alphaBar[ddim.timesteps[0] + 1]
        var x = (0..<12).map { Float(aT.squareRoot()) * x0[$0] + Float((1 - aT).squareRoot()) * eps[$0] }
        for k in ddim.timesteps {
            x.withUnsafeMutableBufferPointer { xp in
                eps.withUnsafeBufferPointer { ddim.step(xp.baseAddress!, eps: $0.baseAddress!, k: k, noise: nil, count: 12) }
            }
        }
        let a1 = schedule.alphaBar[1]
        let expected = (0..<12).map { Float(a1.squareRoot()) * x0[$0] + Float((1 - a1).squareRoot()) * eps[$0] }
        assertClose(x, expected, tolerance: 1e-5, "DDIM end point")
    }

    /// eta = 1 DDIM adds exactly the DDPM posterior standard deviation times the noise.
    func testDDIMNoiseScaleAtEtaOne() {
        let ddim = DDIMScheduler(schedule: schedule, steps: 10, eta: 1)
        let k = ddim.timesteps[3], prev = k - 100
        let at = schedule.alphaBar[k + 1], ap = schedule.alphaBar[prev + 1]
        let sigma = ((1 - ap) / (1 - at) * (1 - at / ap)).squareRoot()
        var a: [Float] = [0.3], b: [Float] = [0.3]
        let eps: [Float] = [0.1], z: [Float] = [1]
        a.withUnsafeMutableBufferPointer { ddim.step($0.baseAddress!, eps: eps, k: k, noise: z, count: 1) }
        b.withUnsafeMutableBufferPointer { ddim.step($0.baseAddress!, eps: eps, k: k, noise: [0], count: 1) }
        XCTAssertEqual(Double(a[0] - b[0]), sigma, accuracy: 1e-6)
    }

    /// The DDPM posterior mean of a perfect oracle is the true posterior mean of q(x_prev | x_k, x0).
    func testDDPMMeanIsThePosteriorMean() {
        let ddpm = DDPMScheduler(schedule: schedule, steps: 1000)
        let k = 500, a = schedule.alphaBar[k + 1], ap = schedule.alphaBar[k]
        let x0: Float = 0.7, e: Float = -0.4
        var x: [Float] = [Float(a.squareRoot()) * x0 + Float((1 - a).squareRoot()) * e]
        let xt = Double(x[0])
        x.withUnsafeMutableBufferPointer { ddpm.step($0.baseAddress!, eps: [e], k: k, noise: [0], count: 1) }
        let beta = schedule.beta[k + 1], alpha = 1 - beta
        let mean = ap.squareRoot() * beta / (1 - a) * Double(x0) + alpha.squareRoot() * (1 - ap) / (1 - a) * xt
        XCTAssertEqual(Double(x[0]), mean, accuracy: 1e-5)
    }
}
