import XCTest
import DDECore

final class NoiseScheduleTests: XCTestCase {
    /// The check values of losses.md for scaled_linear 0.00085..0.012, T = 1000.
    func testScaledLinearMatchesTheSpecCheckValues() {
        let s = NoiseSchedule(kind: .scaledLinear, timesteps: 1000)
        XCTAssertEqual(s.alphaBar[1], 0.99915, accuracy: 5e-6)
        XCTAssertEqual(s.alphaBar[500], 0.27767, accuracy: 5e-6)
        XCTAssertEqual(s.alphaBar[1000], 0.00466, accuracy: 5e-6)
        XCTAssertEqual(s.b2(1), 0.0009, accuracy: 5e-5)
        XCTAssertEqual(s.b2(500), 2.6014, accuracy: 5e-4)
        XCTAssertEqual(s.b2(1000), 213.59, accuracy: 0.05)
    }

    func testLinearIsDDPMs() {
        let s = NoiseSchedule(kind: .linear, timesteps: 1000, betaStart: 1e-4, betaEnd: 0.02)
        XCTAssertEqual(s.beta[1], 1e-4, accuracy: 1e-12)
        XCTAssertEqual(s.beta[1000], 0.02, accuracy: 1e-12)
        XCTAssertEqual(s.beta[500] - s.beta[499], (0.02 - 1e-4) / 999, accuracy: 1e-12)
    }

    /// Improved DDPM: abar_t tracks cos^2((t/T + s)/(1 + s) pi/2) / cos^2(s/(1+s) pi/2) while no beta is capped.
    func testCosineFollowsItsClosedForm() {
        let s = NoiseSchedule(kind: .squaredCosCapV2, timesteps: 1000)
        func f(_ x: Double) -> Double { pow(cos((x + 0.008) / 1.008 * Double.pi / 2), 2) }
        for t in [1, 100, 500, 900] {
            XCTAssertEqual(s.alphaBar[t], f(Double(t) / 1000) / f(0), accuracy: 1e-9, "t=\(t)")
        }
        XCTAssertEqual(s.beta[1000], 0.999, accuracy: 1e-12, "the last beta is capped")
    }

    func testLambdaForms() {
        let s = NoiseSchedule(kind: .scaledLinear, timesteps: 1000)
        let t = 300
        XCTAssertEqual(s.lambda(t, .posterior), s.beta[t] / (2 * (1 - s.beta[t]) * (1 - s.alphaBar[t - 1])), accuracy: 1e-15)
        XCTAssertEqual(s.lambda(t, .beta), s.beta[t] / (2 * (1 - s.beta[t]) * (1 - s.alphaBar[t])), accuracy: 1e-15)
        XCTAssertEqual(s.lambda(1, .posterior), s.lambda(1, .beta), "posterior is undefined at t = 1: the beta form is used")
        XCTAssertGreaterThan(s.lambda(t, .posterior), s.lambda(t, .beta))
    }
}
